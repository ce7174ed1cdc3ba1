import PayBridgeContract

extension CommandProcessor {
    /// `plan` as the account's pause rules have it (``AccountPauses``): a usable answer ends the account's backoff;
    /// a plan that would pause the queue pauses only the account (the delivery is deferred) unless every other
    /// account is paused too.
    func accountPlan(_ plan: DeliveryPlan, account: MerchantAccount, delivery: CommandDelivery) -> DeliveryPlan {
        guard case .putBackAndPause(let reason) = plan.disposition else {
            switch plan.verdict {
            case .answered, .callbackPublished, .reconciled(.changed), .reconciled(.unchanged):
                pauses.withLock { $0.answered(account) }
            default:
                break
            }
            return plan
        }
        let now = ContinuousClock.now
        let (decision, wasPaused) = pauses.withLock { book in
            let wasPaused = book.isPaused(account, now: now)
            return (book.failed(account, reason: reason, now: now), wasPaused)
        }
        switch decision {
        case .pauseQueue:
            return plan
        case .deferAccount(let stage):
            guard !wasPaused else {
                return rules.plan(deferring: delivery, account: account, stage: stage)  // in flight when it paused
            }
            let queue = Topology.retryQueue(provider, stage: stage)
            logger.error("pausing a merchant account: its deliveries are deferred, the other accounts' go on",
                         metadata: [
                            "paybridge.provider": "\(provider.rawValue)", "paybridge.account": "\(account.name)",
                            "paybridge.reason": "\(reason)", "paybridge.queue": "\(queue)",
                         ])
            return rules.plan(deferring: delivery, account: account, stage: stage)
        }
    }
}
