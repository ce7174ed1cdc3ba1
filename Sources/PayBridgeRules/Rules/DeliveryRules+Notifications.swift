import Foundation
import PayBridgeContract
import PaymentVocabulary
import StrictJSON

/// The rules for a callback notification ("callbacks are notifications"), pure like the command rules:
///
/// - confirmed by a status read → `payment.callback` with what the read said (`confirmedBy` `status_read`), the
///   callback body as `raw`, `time` = when the read answered, the notification in the id: ack;
/// - no status read possible (Amanpay callback without `paymentID`) → the signed values alone
///   (`confirmedBy` `signature`; unsigned ones only under `data.unverified`, ``signatureOnly(_:provider:operation:pii:)``)
///   when they claim a status that is not final; a final claim cannot be confirmed, so
///   it is dead-lettered (`CALLBACK_NOT_CONFIRMABLE`) and nothing is published;
/// - the provider does not know the payment → nothing is published (certainly nothing claiming success); the
///   notification is dead-lettered (`CALLBACK_PAYMENT_UNKNOWN`, class `not_found`) for someone to look at;
/// - transient trouble (the read's own retries included) → a broker-side retry, as for commands; past
///   `maxAttempts` → dead letter (`retries_exhausted`), nothing published;
/// - configuration failure / open circuit → put back and pause the provider, as for commands;
/// - the body does not verify again (only a message that did not come from the endpoint) → dead letter.
extension DeliveryRules {
    package func plan(
        notification: CallbackNotification, delivery: CommandDelivery,
        result: Result<CallbackConfirmation, ProviderError>, at time: Date
    ) -> DeliveryPlan {
        switch result {
        case .success(.confirmed(let claim, let read, let kind)):
            var outcome = OutcomeMapping.outcome(
                read, provider: provider, commandId: nil, kind: kind, paymentId: nil, attempts: nil,
                raw: Self.json(claim), pii: eventPII)
            outcome.confirmedBy = "status_read"
            outcome.statusRead = eventPII.apply(Self.json(read))
            // PayBridge keeps no state, so a callback's command is unknown here: the money the callback signed is
            // what the status read is compared with.
            outcome.amountMismatch = PaymentOutcome.AmountMismatch.between(
                expected: claim.amount?.text, expectedCurrency: claim.currency, provider: read.amount?.text,
                providerCurrency: read.currency, expectedFrom: .callback)
            return published(outcome, notification: notification, at: time)
        case .success(.unconfirmable(let claim, let kind)):
            guard !claim.isFinal else {
                return deadLettered(
                    delivery, reason: .notFound, code: "CALLBACK_NOT_CONFIRMABLE",
                    detail: "the callback claims the final status \(claim.providerStatus ?? "-") but names no payment "
                        + "id a status read could confirm it with; nothing was published", at: time)
            }
            return published(Self.signatureOnly(claim, provider: provider, kind: kind, pii: eventPII),
                             notification: notification, at: time)
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
                    delivery, reason: .retriesExhausted, code: error.code.rawValue,
                    detail: "gave up confirming the callback after \(delivery.attempt) attempts: \(error.message)",
                    at: time)
            }
            let retry = CommandRetry(delivery, provider: provider, nextAttempt: delivery.attempt + 1)
            return DeliveryPlan(republish: .retry(retry), disposition: .ack,
                                verdict: .retryScheduled(code: error.code.rawValue))
        case .notFound:
            return deadLettered(
                delivery, reason: .notFound, code: "CALLBACK_PAYMENT_UNKNOWN",
                detail: "the provider's status API does not know the callback's payment (\(error.code)); "
                    + "nothing was published", at: time)
        case .invalidCommand, .declined:
            return deadLettered(delivery, reason: .invalidCommand, code: error.code.rawValue, detail: error.message, at: time)
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

    /// The event data of a callback only its signature confirms (an Amanpay callback without `paymentID`, e.g.
    /// SPECIFICATION): the signed values (A2: `transactionId`, `status`, and `amount`/`currency` when present) as
    /// facts; what the signature does not cover (`operationId`, `additional_fields`, `redirectUrl`, `errorCode`,
    /// `errorMessage`, `customerName`) only under `data.unverified`. `paymentId` is null: a consumer places the
    /// event by `providerPaymentId`.
    package static func signatureOnly(_ claim: ProviderResult, provider: Provider, kind: PaymentCommandKind?, pii: EventPII)
        -> PaymentOutcome
    {
        var outcome = OutcomeMapping.outcome(
            claim, provider: provider, commandId: nil, kind: kind, paymentId: nil, attempts: nil,
            raw: json(claim), pii: pii)
        // Each value at most ProviderDetails.maximumLength characters, as the schema says; a longer one stays in `raw`.
        func bounded(_ text: String?) -> JSONValue? {
            text.flatMap { ProviderDetails.text(.string($0)) }.map(JSONValue.string)
        }
        var unverified: JSONObject = [:]
        if let id = bounded(claim.operationId) { unverified["providerOperationId"] = id }
        if let fields = claim.additionalFields {
            unverified["additionalFields"] = .array(fields.compactMap(bounded))
        }
        if let url = bounded(claim.redirectUrl) { unverified["redirectUrl"] = url }
        if let code = bounded(claim.error?.code) { unverified["errorCode"] = code }
        if let message = bounded(claim.error?.message) { unverified["errorMessage"] = message }
        for member in outcome.providerDetails.fields.members { unverified[member.key] = member.value }
        outcome.paymentId = nil
        outcome.providerOperationId = nil
        outcome.additionalFields = nil
        outcome.redirectUrl = nil
        outcome.error = nil
        outcome.providerDetails = ProviderDetails()
        outcome.unverified = unverified.members.isEmpty ? nil : unverified
        outcome.confirmedBy = "signature"
        return outcome
    }

    /// A provider body as event JSON: the parsed body the client kept, else the text.
    package static func json(_ result: ProviderResult) -> JSONValue {
        result.rawJSON ?? OutcomeMapping.raw(result.rawBody)
    }
}
