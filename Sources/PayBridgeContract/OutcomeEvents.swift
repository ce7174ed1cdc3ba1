import Foundation
import PaymentVocabulary
import StrictJSON

/// Builders for the three outcome event types.
///
/// Every builder derives the event id with ``EventID`` (deterministic), sets `subject` to the merchant's payment id
/// (else the provider's), `time` to `time` in RFC 3339 UTC with milliseconds, and `datacontenttype`
/// `application/json`. The result validates against its schema when the outcome's values are well-formed (amount
/// a decimal string); call ``validate(_:)`` to check before publishing.
public enum OutcomeEvents {
    /// `paybridge.payment.response.v1`.
    public static let responseType = "paybridge.payment.response.v1"
    /// `paybridge.payment.callback.v1`.
    public static let callbackType = "paybridge.payment.callback.v1"
    /// `paybridge.payment.unresolved.v1`.
    public static let unresolvedType = "paybridge.payment.unresolved.v1"
    /// `paybridge.command.failed.v1`.
    public static let commandFailedType = "paybridge.command.failed.v1"
    /// `source` of events published by the worker.
    public static let workerSource = "/paybridge/worker"
    /// `source` of events published by the callback endpoint.
    public static let callbacksSource = "/paybridge/callbacks"

    /// The provider answered a command.
    /// - Parameters:
    ///   - outcome: the data; `commandId` must be set.
    ///   - time: when PayBridge learned it.
    ///   - source: event source, default ``workerSource``.
    ///   - fact: extra id discriminator (see ``EventID``), default none.
    /// - Returns: the message for `payments.outcomes`, key `<provider>.<operation>.response`.
    public static func response(
        _ outcome: PaymentOutcome, time: Date = Date(), source: String = workerSource, fact: String? = nil
    ) -> OutcomeMessage {
        let outcome = outcome.withExactFinality
        return build(
            type: responseType, outcome: outcome, data: outcome.jsonValue(), time: time, source: source, fact: fact,
            routingKey: Topology.responseRoutingKey(outcome.provider, operation: outcome.operation))
    }

    /// A verified provider callback/postback, confirmed by a status read: the data is what the read
    /// said, `raw` the callback as received.
    ///
    /// The id's `fact` is `notification:<notificationId>` when the outcome names its notification: each callback
    /// delivery is its own observation, so SUCCESS → FAILED → SUCCESS gives three ids, while the same
    /// notification read again with the same answer (a redelivery) keeps its id.
    /// - Parameters:
    ///   - outcome: the data; `commandId` is normally `nil`.
    ///   - time: when PayBridge observed the status (the status read's answer).
    ///   - source: event source, default ``callbacksSource``.
    ///   - fact: extra id discriminator; default `notification:<outcome.notificationId>`, or none.
    /// - Returns: the message for `payments.outcomes`, key `<provider>.callback`.
    public static func callback(
        _ outcome: PaymentOutcome, time: Date = Date(), source: String = callbacksSource, fact: String? = nil
    ) -> OutcomeMessage {
        let outcome = outcome.withExactFinality
        return build(
            type: callbackType, outcome: outcome, data: outcome.jsonValue(includeAttempts: false), time: time,
            source: source, fact: fact ?? callbackFact(outcome), routingKey: Topology.callbackRoutingKey(outcome.provider))
    }

    /// The default `fact` of a callback event: `notification:<notificationId>`, or none.
    public static func callbackFact(_ outcome: PaymentOutcome) -> String? {
        outcome.notificationId.map { "notification:\($0)" }
    }

    /// A payment still open when its last reconciliation check ran.
    ///
    /// The id's `fact` is `unresolved`, over the last observed status: two chains for one command (a command
    /// delivered twice) that end on the same status give one id.
    /// - Parameters:
    ///   - payment: the data.
    ///   - time: when PayBridge gave up.
    /// - Returns: the message for `payments.outcomes`, key `<provider>.unresolved`.
    public static func unresolved(_ payment: UnresolvedPayment, time: Date = Date()) -> OutcomeMessage {
        let outcome = PaymentOutcome(
            commandId: payment.commandId, provider: payment.provider, operation: payment.operation,
            paymentId: payment.paymentId, providerPaymentId: payment.providerPaymentId, status: payment.status,
            final: false, providerStatus: payment.providerStatus)
        return build(
            type: unresolvedType, outcome: outcome, data: payment.jsonValue(), time: time, source: workerSource,
            fact: "unresolved", routingKey: Topology.unresolvedRoutingKey(payment.provider))
    }

    /// The command could not be executed.
    /// - Parameters:
    ///   - outcome: the data; `error` must be set (the schema requires it).
    ///   - time: when PayBridge gave up.
    ///   - source: event source, default ``workerSource``.
    ///   - fact: extra id discriminator, default none.
    /// - Returns: the message for `payments.outcomes`, key `<provider>.<operation>.failed`.
    ///
    /// A command that failed says nothing about its payment: whatever `outcome` says, the event's `status` is
    /// `unknown` and `final` is `false` (the consumer's status rule never moves a payment on it); the failure is in
    /// `error`.
    public static func commandFailed(
        _ outcome: PaymentOutcome, time: Date = Date(), source: String = workerSource, fact: String? = nil
    ) -> OutcomeMessage {
        var outcome = outcome
        outcome.status = .unknown
        outcome.final = false
        return build(
            type: commandFailedType, outcome: outcome, data: outcome.jsonValue(), time: time, source: source,
            fact: fact, routingKey: Topology.failedRoutingKey(outcome.provider, operation: outcome.operation))
    }

    /// The `command.failed` event for a command the decoder rejected (class `invalid_command`, status `unknown`,
    /// not final, 0 attempts). When the command id could not be read, the id discriminator is the SHA-256 of the
    /// body, so the same bad message always yields the same event id.
    /// - Parameters:
    ///   - rejection: what ``CommandDecoder`` returned.
    ///   - provider: the provider whose queue the message came from (used when the message does not say).
    ///   - time: when PayBridge rejected it.
    /// - Returns: the message.
    public static func commandFailed(
        rejection: CommandRejection, provider: Provider, time: Date = Date()
    ) -> OutcomeMessage {
        let outcome = PaymentOutcome(
            commandId: rejection.commandId, provider: rejection.provider ?? provider, operation: rejection.operation,
            paymentId: rejection.paymentId, status: .unknown, final: false,
            error: OutcomeError(code: rejection.code, message: rejection.message, errorClass: .invalidCommand),
            attempts: 0, raw: .null)
        let fact = rejection.commandId == nil ? "body-sha256:\(rejection.bodySHA256)" : nil
        return commandFailed(outcome, time: time, fact: fact)
    }

    /// Validates an event against the embedded schema of its type.
    /// - Parameter event: the event.
    /// - Returns: the violations; an unknown type is one violation at `/type`.
    public static func validate(_ event: CloudEvent) -> [SchemaValidationError] {
        guard let validator = ContractSchemas.validator(forType: event.type) else {
            return [SchemaValidationError(instancePath: "/type", schemaPath: "", message: "unknown event type \(event.type)")]
        }
        return validator.validate(event.jsonValue)
    }

    private static func build(
        type: String, outcome: PaymentOutcome, data: JSONValue, time: Date, source: String, fact: String?,
        routingKey: String
    ) -> OutcomeMessage {
        let id = EventID.make(type: type, outcome: outcome, fact: fact)
        let event = CloudEvent(
            id: id, type: type, source: source, time: RFC3339.string(from: time), subject: outcome.paymentId ?? outcome.providerPaymentId,
            datacontenttype: "application/json", data: data)
        let properties = MessageProperties(
            messageId: id, correlationId: outcome.commandId, type: type, contentType: Topology.contentType,
            deliveryMode: Topology.persistentDeliveryMode, timestamp: Int64(time.timeIntervalSince1970.rounded(.down)),
            appId: "paybridge")
        return OutcomeMessage(
            event: event, exchange: Topology.outcomesExchange, routingKey: routingKey, properties: properties,
            outcome: outcome)
    }
}
