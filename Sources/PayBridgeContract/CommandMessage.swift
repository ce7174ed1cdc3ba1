import Foundation
import StrictJSON

/// A ready-to-publish command: for producers, `paybridge send`, the demo and tests.
public struct CommandMessage: Sendable, Equatable {
    /// The command (structured-mode CloudEvent).
    public let event: CloudEvent
    /// Exchange: ``Topology/commandsExchange``.
    public let exchange: String
    /// Routing key `<provider>.<operation>`.
    public let routingKey: String
    /// AMQP properties: `message_id` = command id, `type`, `content_type`, persistent.
    public let properties: MessageProperties

    /// The message body: canonical JSON of ``event``.
    public var body: [UInt8] { event.serialized() }

    /// Builds a command. The result is not validated: run it through ``CommandDecoder`` (or
    /// ``validate()``) to see what PayBridge will say.
    /// - Parameters:
    ///   - kind: which command.
    ///   - id: the command id (idempotency key); reuse it when republishing the same command.
    ///   - data: the `data` object (provider field names, amounts as decimal strings).
    ///   - source: CloudEvents `source`, e.g. `/orders/checkout-service`.
    ///   - time: creation time, written as RFC 3339 UTC with milliseconds.
    ///   - extensions: CloudEvents extension attributes (e.g. `traceparent`).
    public init(
        kind: PaymentCommandKind, id: String, data: JSONValue, source: String, time: Date = Date(),
        extensions: JSONObject = [:]
    ) {
        self.event = CloudEvent(
            id: id, type: kind.type, source: source, time: RFC3339.string(from: time),
            datacontenttype: "application/json", data: data, extensions: extensions)
        self.exchange = Topology.commandsExchange
        self.routingKey = kind.routingKey
        self.properties = MessageProperties(
            messageId: id, correlationId: nil, type: kind.type, contentType: Topology.contentType,
            deliveryMode: Topology.persistentDeliveryMode, timestamp: Int64(time.timeIntervalSince1970.rounded(.down)),
            appId: "paybridge")
    }

    /// Validates the command against its schema.
    /// - Returns: the violations; empty when PayBridge will accept it.
    public func validate() -> [SchemaValidationError] {
        ContractSchemas.validator(forType: event.type)?.validate(event.jsonValue) ?? []
    }
}
