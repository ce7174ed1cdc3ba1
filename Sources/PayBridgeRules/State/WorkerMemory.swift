import PayBridgeContract

/// Everything a provider's worker remembers between deliveries, as one plain value: the command ids seen recently
/// (a create seen twice goes status-first), the callback notifications read recently (an identical one within the
/// window is not read again), each account's run of bad response signatures (``BadSignatureStreak``) and which
/// accounts are paused (``AccountPauses``).
///
/// Its methods take the time as an argument and return what the delivery's plan must become (``Arrival``,
/// ``Adjustment``); ``DeliveryRules`` turns those into plans. The worker keeps it behind one lock.
package struct WorkerMemory: Sendable {
    /// What a delivery's arrival asks for before its provider call.
    package enum Arrival: Equatable, Sendable {
        /// Go on: call the provider.
        case proceed
        /// The account is paused: into the delay queue of this stage (``AccountPauses/deferral(of:now:)``).
        case `defer`(stage: Int)
        /// An identical callback notification was read within the window: acknowledge it unread.
        case duplicateNotification
    }

    /// What a plan becomes once the memory has seen it.
    package enum Adjustment: Equatable, Sendable {
        /// As the rules made it.
        case keep
        /// A run of bad response signatures reached the threshold: pause (``DeliveryRules/planPause(forBadSignatures:)``).
        case pauseForBadSignatures(count: Int)
        /// Defer the delivery into the delay queue of `stage`; `newlyPaused`: its account paused just now.
        case deferAccount(stage: Int, newlyPaused: Bool)
    }

    private var seenCommands: RecentIDs
    private var recentNotifications: RecentNotifications
    private var badSignatures: [MerchantAccount: BadSignatureStreak] = [:]
    package let badSignatureThreshold: Int
    /// The accounts paused, and what a pause means.
    package private(set) var pauses: AccountPauses

    /// - Parameters:
    ///   - accounts: the provider's merchant accounts in this deployment.
    ///   - notificationWindow: identical callback notifications within it are read once (``RecentNotifications``).
    package init(accounts: Set<MerchantAccount>, accountPause: (initial: Duration, maximum: Duration),
                 badSignatureThreshold: Int = BadSignatureStreak.defaultThreshold, notificationWindow: Duration,
                 seenCommandCapacity: Int = 100_000) {
        seenCommands = RecentIDs(capacity: seenCommandCapacity)
        recentNotifications = RecentNotifications(window: notificationWindow)
        self.badSignatureThreshold = badSignatureThreshold
        pauses = AccountPauses(accounts: accounts, initialPause: accountPause.initial,
                               maximumPause: accountPause.maximum)
    }

    /// A delivery of `account` arrives at `now`. `notificationKey`: a first delivery of a callback notification,
    /// by content (``RecentNotifications/key(provider:account:bodyDigest:signature:)``); it is recorded as read.
    package mutating func arrived(account: MerchantAccount, notificationKey: String?, now: ContinuousClock.Instant)
        -> Arrival
    {
        if let stage = pauses.deferral(of: account, now: now) { return .defer(stage: stage) }
        if let notificationKey, !recentNotifications.shouldRead(notificationKey, now: now) {
            return .duplicateNotification
        }
        return .proceed
    }

    /// Records that a command id is being executed; `true` when it was seen before.
    package mutating func seen(commandId: String) -> Bool {
        seenCommands.insert(commandId)
    }

    /// What the provider's answer says about the account's responses: a bad signature extends its streak (and
    /// asks for a pause at the threshold), a usable answer ends it.
    package mutating func executed(_ execution: DeliveryExecution, account: MerchantAccount) -> Adjustment {
        guard case .command(let command, let result) = execution else { return .keep }
        switch result {
        case .providerFailed(let error) where error.code == .invalidResponseSignature:
            var streak = badSignatures[account] ?? BadSignatureStreak(threshold: badSignatureThreshold)
            defer { badSignatures[account] = streak }
            return streak.recordBadSignature(commandId: command.id)
                ? .pauseForBadSignatures(count: streak.commandIds.count) : .keep
        case .answered(let answer) where answer.status != .unknown:
            badSignatures[account]?.recordUsableAnswer()
            return .keep
        default:
            return .keep
        }
    }

    /// What `plan` means for its account's pause (``AccountPauses``): a usable answer ends the account's backoff; a
    /// plan that would pause the queue pauses only the account (the delivery is deferred) unless every other account
    /// is paused too (then the plan stands).
    package mutating func planned(_ plan: DeliveryPlan, account: MerchantAccount, now: ContinuousClock.Instant)
        -> Adjustment
    {
        guard case .putBackAndPause(let reason) = plan.disposition else {
            switch plan.verdict {
            case .answered, .callbackPublished, .reconciled(.changed), .reconciled(.unchanged):
                pauses.answered(account)
            default:
                break
            }
            return .keep
        }
        let wasPaused = pauses.isPaused(account, now: now)
        switch pauses.failed(account, reason: reason, now: now) {
        case .pauseQueue: return .keep
        case .deferAccount(let stage): return .deferAccount(stage: stage, newlyPaused: !wasPaused)
        }
    }
}
