import Foundation
import PayBridgeContract
import PaymentVocabulary

/// PayBridge's rules for one command delivery, as pure functions of plain values: no broker, no
/// clock, no state. ``CommandProcessor`` asks them and carries out the ``DeliveryPlan`` they return.
///
/// - invalid command (too large, bad JSON, schema violation, unusable PayBridge headers) → `command.failed`
///   (invalid_command) + dead-letter queue with the reason; never requeued.
/// - provider answered → `payment.response` (including declines and `unknown` after an unresolved ambiguous
///   create, which is retried like a transient failure).
/// - transient failure after the client's in-process retries → broker-side delayed retry with the attempt count
///   in `x-paybridge-attempt`; past `maxAttempts` → `command.failed` (retries_exhausted) + dead-letter queue.
/// - configuration failure / open circuit → put back and pause the provider (commands are not burned);
///   ``CommandProcessor`` narrows that to the command's merchant account while the provider's other accounts work
///   (``AccountPauses``, `DeliveryRules+Accounts`).
/// - a command naming a merchant account this deployment does not have → `command.failed` (`UNKNOWN_ACCOUNT`) +
///   dead-letter queue.
/// - an unusable provider answer (`provider_error`: a response signature that does not verify, an unexpected
///   404) → broker-side retries like a transient failure, then `command.failed` (class `provider_error`, status
///   `unknown` for creates) + dead-letter queue. Only a run of bad signatures across commands pauses the provider
///   (``BadSignatureStreak``).
/// - a request the provider refused → `command.failed` + dead-letter queue.
/// - a create left open (`requires_action`, `processing`, `under_review`, or `unknown` after giving up) → the same
///   events, plus its first reconciliation check (``firstCheck(_:outcome:openSince:)``, `DeliveryRules+Reconciliation`).
/// - a payment the provider does not know (`not_found`: Amanpay `TRANSACTION_NOT_FOUND`, FirstPay 404
///   `NOT_FOUND`) → `payment.response` with status `unknown`, not final, class `not_found` (docs/contract.md).
/// - every `command.failed` says `status: unknown`, `final: false`: the command failed, which says nothing about
///   its payment (the consumers' status rule never moves a payment on it).
/// - the delivery is acked only after everything the plan publishes is confirmed.
package struct DeliveryRules: Sendable {
    /// The provider whose queue the deliveries come from.
    package let provider: Provider
    /// Broker-side attempts before a transient failure is given up.
    package let maxAttempts: Int
    package let decoder: CommandDecoder
    /// How much of customers' account and wallet numbers events carry (`PAYBRIDGE_EVENT_PII`).
    package var eventPII: EventPII = .masked
    /// When a payment left open is checked again (`PAYBRIDGE_RECONCILE_SCHEDULE`). Off unless set: the runtime sets
    /// the configured schedule (default ``ReconcileSchedule/default``).
    package var reconcileSchedule: ReconcileSchedule = .off
    /// The provider's merchant accounts in this deployment; a delivery naming another one is
    /// dead-lettered (`UNKNOWN_ACCOUNT`, ``plan(unknownAccount:delivery:at:)``).
    package var accounts: Set<MerchantAccount> = [.default]

    package init(provider: Provider, maxAttempts: Int, maxCommandBytes: Int = CommandDecoder.defaultMaximumBytes) {
        self.provider = provider
        self.maxAttempts = maxAttempts
        decoder = CommandDecoder(maximumBytes: maxCommandBytes)
    }

    /// The provider's command queue (the dead letters' source queue).
    package var queue: String { Topology.commandQueue(provider) }

    /// The command, or why it is not one: unusable PayBridge headers first (the body is then not parsed), then the
    /// decoder's checks against the original routing key.
    package func decode(_ delivery: CommandDelivery) -> Result<PaymentCommand, CommandRejection> {
        if let problem = delivery.headers.problem {
            return .failure(.unusableMetadata(code: problem.code, message: problem.message, body: delivery.body,
                                              routingKey: delivery.originalRoutingKey))
        }
        return decoder.decode(delivery.body, routingKey: delivery.originalRoutingKey)
    }

    /// Reads a payment-methods query (``classify(_:receivedAt:)`` chose it by its routing key).
    package func decodeQuery(_ delivery: CommandDelivery) -> Result<PaymentMethodsQuery, QueryRejection> {
        let properties = delivery.properties
        if let problem = delivery.headers.problem {
            let rejection = CommandRejection.unusableMetadata(code: problem.code, message: problem.message,
                                                              body: delivery.body, routingKey: delivery.originalRoutingKey)
            let address = PaymentMethodsQuery.ReplyAddress.of(replyTo: properties.replyTo,
                                                              correlationId: properties.correlationId, queryId: nil)
            return .failure(QueryRejection(rejection: rejection, reply: address, merchantPaymentId: nil,
                                           account: .default))
        }
        return decoder.decodeQuery(delivery.body, routingKey: delivery.originalRoutingKey,
                                   replyTo: properties.replyTo, correlationId: properties.correlationId)
    }

    /// Whether a create reads the payment's status before it creates (A5, F8): when the delivery is redelivered, a
    /// retry, a replayed dead letter, or its command id (or another command for its payment) was seen before, so a
    /// command seen twice never creates twice.
    package func statusFirst(_ command: PaymentCommand, delivery: CommandDelivery, seenBefore: Bool) -> Bool {
        command.kind.createsPayment
            && (delivery.redelivered || delivery.attempt > 1 || delivery.headers.replayed || seenBefore)
    }

    /// The plan when bad response signatures across commands trip ``BadSignatureStreak``: the command is put back
    /// unburned and the provider paused, as for a configuration failure (a wrong secret or A2 field list).
    package func planPause(forBadSignatures count: Int) -> DeliveryPlan {
        DeliveryPlan(
            disposition: .putBackAndPause(reason: "\(count) consecutive commands got responses whose signature "
                                          + "does not verify"),
            verdict: .pausedForConfiguration(code: .invalidResponseSignature))
    }

    /// The plan for a message that is not an acceptable command: `command.failed` (invalid_command, final) and
    /// the dead-letter queue, then ack.
    package func plan(rejected rejection: CommandRejection, delivery: CommandDelivery, at time: Date) -> DeliveryPlan {
        let failed = OutcomeEvents.commandFailed(rejection: rejection, provider: provider, time: time)
        let deadLetter = CommandDeadLetter(
            delivery, sourceQueue: queue, reason: .invalidCommand, code: rejection.code, detail: rejection.message,
            failedEventId: failed.event.id, at: time)
        return DeliveryPlan(events: [failed], republish: .deadLetter(deadLetter), disposition: .ack,
                            verdict: .rejected(code: rejection.code))
    }

    /// The plan once the executor ran `command`.
    package func plan(
        executed command: PaymentCommand, delivery: CommandDelivery, execution: CommandExecution, at time: Date
    ) -> DeliveryPlan {
        switch execution {
        case .answered(let result):
            if result.status == .unknown, let error = result.error, error.errorClass == .unknown {
                // The client could not settle whether the create took effect. A broker-side retry goes through
                // status-first, so it adopts the payment if it exists and creates it only if it does not.
                return retryOrGiveUp(command, delivery: delivery, code: error.code, message: error.message,
                                     raw: result.rawBody, at: time)
            }
            var outcome = OutcomeMapping.outcome(
                result, provider: provider, commandId: command.id, kind: command.kind,
                paymentId: command.paymentId, attempts: delivery.attempt, pii: eventPII)
            outcome.amountMismatch = Self.amountMismatch(command, result)
            outcome.account = command.account
            let response = OutcomeEvents.response(outcome, time: time)
            return DeliveryPlan(events: [response],
                                nextCheck: firstCheck(command, outcome: outcome, openSince: response.event.time ?? ""),
                                disposition: .ack, verdict: .answered(status: outcome.status))
        case .providerFailed(let error):
            return plan(failed: error, command: command, delivery: delivery, at: time)
        case .invalidData(let error):
            return fail(command, delivery: delivery, code: "INVALID_COMMAND_DATA", message: error.description,
                        errorClass: .invalidCommand, deadLetter: true, at: time)
        }
    }

    private func plan(
        failed error: ProviderError, command: PaymentCommand, delivery: CommandDelivery, at time: Date
    ) -> DeliveryPlan {
        switch error.errorClass {
        case .configuration:
            return paused(by: error)
        case _ where error.isCircuitOpen:
            return paused(by: error)
        case .transient, .unknown:
            return retryOrGiveUp(command, delivery: delivery, code: error.code.rawValue, message: error.message,
                                 raw: error.rawBody, at: time)
        case .providerError:
            // This command's answer was unusable; the next attempt may not be (and a create goes status-first).
            return retryOrGiveUp(command, delivery: delivery, code: error.code.rawValue, message: error.message,
                                 raw: error.rawBody, givingUpAs: .providerError, at: time)
        case .notFound:
            // The provider does not know the payment where it was asked (a wrong `paymentType`, a create still in
            // flight): that says nothing about the payment's status, so `unknown` (never `failed`), class
            // `not_found`, as a response to the lookup.
            var outcome = OutcomeMapping.failure(
                command, code: error.code.rawValue, message: error.message, errorClass: .notFound, attempts: delivery.attempt,
                raw: error.rawBody, pii: eventPII)
            outcome.amount = nil
            outcome.currency = nil
            return DeliveryPlan(events: [OutcomeEvents.response(outcome, time: time)], disposition: .ack,
                                verdict: .answered(status: .unknown))
        default:
            // Declines arrive as results; what lands here is a request the provider refused (invalid_request,
            // dead-lettered: it cannot succeed as sent).
            return fail(command, delivery: delivery, code: error.code.rawValue, message: error.message,
                        errorClass: error.errorClass, deadLetter: true, raw: error.rawBody, at: time)
        }
    }

    /// Transient trouble (or a create whose outcome stayed open, or an unusable answer): a broker-side retry while
    /// attempts remain; then `command.failed` (`givingUpAs`: retries_exhausted, or provider_error) and the
    /// dead-letter queue. A create that may exist is reported with status `unknown`, never `failed` (A5, F8).
    private func retryOrGiveUp(
        _ command: PaymentCommand, delivery: CommandDelivery, code: String, message: String, raw: String?,
        givingUpAs giveUpClass: ErrorClass = .retriesExhausted, at time: Date
    ) -> DeliveryPlan {
        let attempt = delivery.attempt
        guard attempt < maxAttempts else {
            return fail(command, delivery: delivery, code: code,
                        message: "gave up after \(attempt) attempts: \(message)", errorClass: giveUpClass,
                        deadLetter: true, raw: raw, mayHaveCreated: true, at: time)
        }
        let retry = CommandRetry(delivery, provider: provider, nextAttempt: attempt + 1)
        return DeliveryPlan(republish: .retry(retry), disposition: .ack, verdict: .retryScheduled(code: code))
    }

    /// `command.failed` (status `unknown`: the command failed, not necessarily the payment), and the dead-letter
    /// queue when `deadLetter`. `mayHaveCreated`: the command is a create that may have reached the provider
    /// (retries ran out after an ambiguous or unusable answer), so the payment is reconciled like one left open.
    package func fail(
        _ command: PaymentCommand, delivery: CommandDelivery, code: String, message: String, errorClass: ErrorClass,
        deadLetter: Bool, raw: String? = nil, mayHaveCreated: Bool = false, at time: Date
    ) -> DeliveryPlan {
        let outcome = OutcomeMapping.failure(
            command, code: code, message: message, errorClass: errorClass, attempts: delivery.attempt, raw: raw,
            pii: eventPII)
        let failed = OutcomeEvents.commandFailed(outcome, time: time)
        let republish: DeliveryPlan.Republish? = deadLetter
            ? .deadLetter(CommandDeadLetter(
                delivery, sourceQueue: queue, reason: errorClass, code: code, detail: message,
                failedEventId: failed.event.id, at: time))
            : nil
        return DeliveryPlan(events: [failed],
                            nextCheck: mayHaveCreated
                                ? firstCheck(command, outcome: outcome, openSince: failed.event.time ?? "") : nil,
                            republish: republish, disposition: .ack, verdict: .failed(code: code, errorClass: errorClass))
    }

    /// The command's and the provider's money when the provider names a different amount or currency: flagged in
    /// the event and logged, never silently accepted.
    package static func amountMismatch(_ command: PaymentCommand, _ result: ProviderResult) -> PaymentOutcome.AmountMismatch? {
        PaymentOutcome.AmountMismatch.between(
            expected: command.amount, expectedCurrency: command.currency,
            provider: result.amount?.text, providerCurrency: result.currency, expectedFrom: .command)
    }

    /// The plan for a failure of the whole provider, not of one command or callback: PayBridge's configuration was
    /// refused, or the provider's circuit is open. The delivery is put back unexecuted and the provider paused, so
    /// commands are not burned. One rule for commands and callback notifications.
    package func paused(by error: ProviderError) -> DeliveryPlan {
        error.errorClass == .configuration
            ? DeliveryPlan(disposition: .putBackAndPause(reason: "configuration: \(error.code)"),
                           verdict: .pausedForConfiguration(code: error.code))
            : DeliveryPlan(disposition: .putBackAndPause(reason: "circuit open"), verdict: .pausedForOpenCircuit)
    }
}
