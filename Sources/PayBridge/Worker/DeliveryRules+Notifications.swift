import Foundation
import PayBridgeContract
import ProviderCore

/// The rules for a callback notification (issue 11, "callbacks are notifications"), pure like the command rules:
///
/// - confirmed by a status read → `payment.callback` with what the read said (`confirmedBy` `status_read`), the
///   callback body as `raw`, `time` = when the read answered, the notification in the id: ack;
/// - no status read possible (Amanpay callback without `paymentID`) → the signed values alone
///   (`confirmedBy` `signature`) when they claim a status that is not final; a final claim cannot be confirmed, so
///   it is dead-lettered (`CALLBACK_NOT_CONFIRMABLE`) and nothing is published;
/// - the provider does not know the payment → nothing is published (certainly nothing claiming success); the
///   notification is dead-lettered (`CALLBACK_PAYMENT_UNKNOWN`, class `not_found`) for someone to look at;
/// - transient trouble (the read's own retries included) → a broker-side retry, as for commands; past
///   `maxAttempts` → dead letter (`retries_exhausted`), nothing published;
/// - configuration failure / open circuit → put back and pause the provider, as for commands;
/// - the body does not verify again (only a message that did not come from the endpoint) → dead letter.
extension DeliveryRules {
    func plan(
        notification: CallbackNotification, delivery: CommandDelivery,
        result: Result<CallbackConfirmation, ProviderError>, at time: Date
    ) -> DeliveryPlan {
        switch result {
        case .success(.confirmed(let claim, let read, let operation)):
            var outcome = OutcomeMapping.outcome(
                read, provider: provider, commandId: nil, operation: operation, paymentId: nil, attempts: nil,
                raw: Self.json(claim), pii: eventPII)
            outcome.confirmedBy = "status_read"
            outcome.statusRead = eventPII.apply(Self.json(read))
            return published(outcome, notification: notification, at: time)
        case .success(.unconfirmable(let claim, let operation)):
            guard !claim.isFinal else {
                return deadLettered(
                    delivery, reason: .notFound, code: "CALLBACK_NOT_CONFIRMABLE",
                    detail: "the callback claims the final status \(claim.providerStatus ?? "-") but names no payment "
                        + "id a status read could confirm it with; nothing was published", at: time)
            }
            var outcome = OutcomeMapping.outcome(
                claim, provider: provider, commandId: nil, operation: operation, paymentId: nil, attempts: nil,
                raw: Self.json(claim), pii: eventPII)
            outcome.confirmedBy = "signature"
            return published(outcome, notification: notification, at: time)
        case .failure(let error):
            return plan(notificationFailed: error, delivery: delivery, at: time)
        }
    }

    private func plan(notificationFailed error: ProviderError, delivery: CommandDelivery, at time: Date)
        -> DeliveryPlan
    {
        switch error.errorClass {
        case .configuration:
            return paused(by: error)
        case _ where error.isCircuitOpen:
            return paused(by: error)
        case .transient, .unknown, .providerError, .retriesExhausted:
            guard delivery.attempt < maxAttempts else {
                return deadLettered(
                    delivery, reason: .retriesExhausted, code: error.code,
                    detail: "gave up confirming the callback after \(delivery.attempt) attempts: \(error.message)",
                    at: time)
            }
            let retry = CommandRetry(delivery, provider: provider, nextAttempt: delivery.attempt + 1)
            return DeliveryPlan(republish: .retry(retry), disposition: .ack,
                                verdict: .retryScheduled(code: error.code))
        case .notFound:
            return deadLettered(
                delivery, reason: .notFound, code: "CALLBACK_PAYMENT_UNKNOWN",
                detail: "the provider's status API does not know the callback's payment (\(error.code)); "
                    + "nothing was published", at: time)
        case .invalidCommand, .declined:
            return deadLettered(delivery, reason: .invalidCommand, code: error.code, detail: error.message, at: time)
        }
    }

    private func published(_ outcome: PaymentOutcome, notification: CallbackNotification, at time: Date)
        -> DeliveryPlan
    {
        var outcome = outcome
        outcome.account = notification.account
        outcome.notificationId = notification.id
        outcome.receivedAt = notification.receivedAt
        return DeliveryPlan(events: [OutcomeEvents.callback(outcome, time: time)], disposition: .ack,
                            verdict: .callbackPublished(status: outcome.status))
    }

    private func deadLettered(
        _ delivery: CommandDelivery, reason: ErrorClass, code: String, detail: String, at time: Date
    ) -> DeliveryPlan {
        let deadLetter = CommandDeadLetter(
            delivery, sourceQueue: queue, reason: reason, code: code, detail: detail, failedEventId: nil, at: time)
        return DeliveryPlan(republish: .deadLetter(deadLetter), disposition: .ack,
                            verdict: .callbackNotPublished(code: code, errorClass: reason))
    }

    /// A provider body as event JSON: the parsed body the client kept, else the text.
    static func json(_ result: ProviderResult) -> JSONValue {
        result.rawJSON ?? OutcomeMapping.raw(result.rawBody)
    }
}
