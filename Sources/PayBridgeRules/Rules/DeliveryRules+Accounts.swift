import Foundation
import PayBridgeContract
import PaymentVocabulary

/// The merchant-account rules, pure like the command rules:
///
/// - a command naming an account this deployment does not have → `command.failed` (`invalid_command`,
///   `UNKNOWN_ACCOUNT`, with the account in `data.account`) and the dead-letter queue; never requeued;
/// - a callback notification or reconciliation check of such an account → the dead-letter queue, nothing published;
/// - a delivery of a paused account (``AccountPauses``) → into the delay queue of the stage the pause asks for,
///   attempt unchanged (as a put-back: a redelivered create goes back as attempt 2 or later, status-first), then
///   ack; the provider is not called.
extension DeliveryRules {
    /// The dead letter of a command whose `data.account` names no account of this provider.
    package func plan(unknownAccount command: PaymentCommand, delivery: CommandDelivery, at time: Date) -> DeliveryPlan {
        fail(command, delivery: delivery, code: "UNKNOWN_ACCOUNT", message: unknownAccountMessage(command.account),
             errorClass: .invalidCommand, deadLetter: true, at: time)
    }

    /// The dead letter of a callback notification or reconciliation check whose account is not configured.
    package func plan(unknownAccountOf delivery: CommandDelivery, account: MerchantAccount?, notification: Bool, at time: Date)
        -> DeliveryPlan
    {
        let deadLetter = CommandDeadLetter(
            delivery, sourceQueue: queue, reason: .invalidCommand, code: "UNKNOWN_ACCOUNT",
            detail: unknownAccountMessage(account) + "; nothing was published", failedEventId: nil, at: time)
        return DeliveryPlan(
            republish: .deadLetter(deadLetter), disposition: .ack,
            verdict: notification
                ? .callbackNotPublished(code: "UNKNOWN_ACCOUNT", errorClass: .invalidCommand)
                : .reconciled(.invalid))
    }

    /// The plan for a delivery of `account` while it is paused: into the delay queue of `stage`, attempt unchanged.
    package func plan(deferring delivery: CommandDelivery, account: MerchantAccount, stage: Int) -> DeliveryPlan {
        let properties = delivery.putBackProperties()
        let attempt = delivery.redelivered ? max(delivery.attempt, 2) : delivery.attempt
        let retry = CommandRetry(queue: Topology.retryQueue(provider, stage: stage), nextAttempt: attempt,
                                 body: delivery.body, properties: properties)
        return DeliveryPlan(republish: .retry(retry), disposition: .ack, verdict: .deferred(account: account.name))
    }

    func unknownAccountMessage(_ account: MerchantAccount?) -> String {
        let configured = accounts.sorted().map(\.name).joined(separator: ", ")
        return "account \(account.map { "\"\($0.name)\"" } ?? "(unreadable)") is not configured for "
            + "\(provider.rawValue) (configured: \(configured))"
    }
}
