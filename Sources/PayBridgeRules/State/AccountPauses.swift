import PayBridgeContract

/// Which merchant accounts of one provider's queue are paused, and what a pause means: a plain
/// value, decided without I/O or a clock (callers pass `now`), tested on its own.
///
/// A configuration failure (Amanpay `INVALID_API_KEY`, FirstPay 401), an open circuit or a run of bad response
/// signatures is a failure of one account's setup, so it pauses that account, not the queue it shares with the
/// provider's other accounts:
/// - While an account is paused, its commands (and callback notifications and reconciliation checks) are not
///   sent to the provider: each goes into the provider's delay queue whose delay best fits the time left
///   (``Topology/retryDelays``: the longest that is not longer, at least the first), with its attempt count
///   unchanged, and comes back to the queue's tail after it. The other accounts' commands flow meanwhile.
/// - A pause lasts `initialPause`, doubling with each failure after one ends, up to `maximumPause`; the first
///   command of the account after it ends is the probe. A usable answer for the account ends its backoff.
/// - Only when every other account of the queue is paused too (always, for a provider with one account) is the
///   queue itself paused (``Decision/pauseQueue``): the worker stops consuming and puts back what it holds, as
///   before accounts existed, and this account is not recorded here (the queue's pause covers it).
package struct AccountPauses: Sendable {
    /// What to do with the delivery whose account just failed.
    package enum Decision: Equatable, Sendable {
        /// Put it back and pause the whole queue (every account is paused).
        case pauseQueue
        /// Put it into the delay queue of `stage` (``Topology/retryQueue(_:stage:)``); the account is paused.
        case deferAccount(stage: Int)
    }

    /// One account's pause.
    package struct Pause: Equatable, Sendable {
        package var until: ContinuousClock.Instant
        package var reason: String
    }

    /// The queue's accounts.
    package let accounts: Set<MerchantAccount>
    package let initialPause: Duration
    package let maximumPause: Duration
    /// The accounts paused (those whose pause ended stay until their next answer or failure).
    package private(set) var pauses: [MerchantAccount: Pause] = [:]
    /// The length of each account's next pause, when it is not `initialPause`.
    private var nextPause: [MerchantAccount: Duration] = [:]

    package init(accounts: Set<MerchantAccount>, initialPause: Duration = .seconds(5), maximumPause: Duration = .seconds(300)) {
        self.accounts = accounts
        self.initialPause = initialPause
        self.maximumPause = max(initialPause, maximumPause)
    }

    /// The delay-queue stage for a command of `account` while it is paused; `nil` when it is not paused at `now`.
    package func deferral(of account: MerchantAccount, now: ContinuousClock.Instant) -> Int? {
        guard let pause = pauses[account], pause.until > now else { return nil }
        return Self.stage(for: pause.until - now)
    }

    /// Whether `account` is paused at `now`.
    package func isPaused(_ account: MerchantAccount, now: ContinuousClock.Instant) -> Bool {
        deferral(of: account, now: now) != nil
    }

    /// `account` failed as a whole (configuration, open circuit, bad signatures) at `now`.
    package mutating func failed(_ account: MerchantAccount, reason: String, now: ContinuousClock.Instant) -> Decision {
        if let stage = deferral(of: account, now: now) {
            return .deferAccount(stage: stage)  // already paused (a command that was in flight): no longer pause
        }
        let othersPaused = accounts.subtracting([account]).allSatisfy { isPaused($0, now: now) }
        guard !othersPaused else { return .pauseQueue }
        let length = nextPause[account] ?? initialPause
        pauses[account] = Pause(until: now + length, reason: reason)
        nextPause[account] = min(length * 2, maximumPause)
        return .deferAccount(stage: Self.stage(for: length))
    }

    /// The provider gave `account` a usable answer: its pause and backoff end.
    package mutating func answered(_ account: MerchantAccount) {
        guard pauses[account] != nil || nextPause[account] != nil else { return }
        pauses[account] = nil
        nextPause[account] = nil
    }

    /// The delay stage (1-based, ``Topology/retryDelays``) for a wait of `remaining`: the longest delay not longer
    /// than it, at least the first.
    package static func stage(for remaining: Duration) -> Int {
        var stage = 1
        for (index, delay) in Topology.retryDelays.enumerated() where delay <= remaining { stage = index + 1 }
        return stage
    }
}
