import Foundation
import PayBridgeContract
import ProviderCore

extension CommandProcessor {
    /// A callback notification on the provider's queue: verify it again and read its payment's status
    /// (``PaymentCommandExecutor/confirm(_:)``), ask ``DeliveryRules`` what follows, carry the plan out like a
    /// command's (every publish until the broker confirms it), then settle the delivery.
    func processNotification(_ delivery: CommandDelivery) async -> DeliveryDisposition {
        let notification = CallbackNotification(delivery: delivery, provider: provider, now: Date())
        var log = CommandLog(logger: logger, provider: provider.rawValue, attempt: delivery.attempt,
                             deliveryTag: delivery.deliveryTag)
        log.operation = "callback"
        log.traceId = tracing.current?.traceID
        log.account = notification.account?.name
        do {
            guard let account = notification.account, let executor = executors[account] else {
                let plan = rules.plan(unknownAccountOf: delivery, account: notification.account, notification: true,
                                      at: Date())
                report(plan, log)
                try await carryOut(plan, log)
                count(plan, account: notification.account)  // not configured: counted as `unknown`
                return plan.disposition
            }
            if let stage = pauses.withLock({ $0.deferral(of: account, now: .now) }) {
                let plan = rules.plan(deferring: delivery, account: account, stage: stage)
                report(plan, log)
                try await carryOut(plan, log)
                count(plan, account: account)
                return plan.disposition
            }
            // Only a first delivery can be a replay: a retry of a notification whose read failed, or one the
            // broker delivers again, must be read even within the window (and costs no digest).
            if delivery.attempt == 1, !delivery.redelivered {
                let key = RecentNotifications.key(provider: provider.rawValue, account: account.name,
                                                  bodyDigest: EventID.sha256Hex(notification.body),
                                                  signature: notification.signature)
                guard recentNotifications.withLock({ $0.shouldRead(key, now: .now) }) else {
                    // A replay, or the provider sending again while the first was being confirmed: the first
                    // one's read (and its retries, if it failed) speaks for this one.
                    log.info("an identical callback was read moments ago; not reading it again", [
                        "paybridge.notification_id": "\(notification.id)",
                    ])
                    metrics.command(outcome: "duplicate_callback", account: account)
                    return .ack
                }
            }
            let result: Result<CallbackConfirmation, ProviderError>
            do {
                result = .success(try await executor.confirm(notification))
            } catch let error as ProviderError {
                metrics.providerError(error)
                result = .failure(error)
            }
            let plan = accountPlan(
                rules.plan(notification: notification, delivery: delivery, result: result, at: Date()),
                account: account, delivery: delivery)
            if case .success(.confirmed(let claim, let read, _)) = result, Self.disagree(claim, read) {
                log.warning("callback disagrees with the provider's status read; publishing the read", [
                    "paybridge.callback_status": "\(claim.providerStatus ?? "-")",
                    "paybridge.read_status": "\(read.providerStatus ?? "-")",
                    "paybridge.notification_id": "\(notification.id)",
                ])
            }
            report(plan, log)
            try await carryOut(plan, log)
            count(plan, account: account)
            return plan.disposition
        } catch {
            // Cancellation (shutting down past the drain timeout): nothing was acked, the notification comes back.
            log.error("shutting down before the callback was confirmed; requeueing it", ["error": "\(error)"])
            metrics.command(outcome: "requeued", account: notification.account)
            return .requeue
        }
    }

    /// Whether the callback claimed another status or payment than the provider's read says (a forgery with a moved
    /// field boundary, a stale or replayed callback, or a correction since).
    static func disagree(_ claim: ProviderResult, _ read: ProviderResult) -> Bool {
        claim.providerStatus != read.providerStatus
            || (claim.providerPaymentId != nil && claim.providerPaymentId != read.providerPaymentId)
    }
}
