/// The callback notifications a worker read recently, by content ("replays cost little"): the same
/// callback body with the same signature, for the same provider and account, arriving again within ``window`` of
/// the one that was read is not read again. A replay (or a provider re-sending while the first was still being
/// confirmed) then costs a queue message and an ack, not a provider status read and an event.
///
/// A plain value, no clock of its own: the caller passes the time. Bounded: at most ``capacity`` entries, expired
/// ones forgotten first, then the oldest.
package struct RecentNotifications: Sendable {
    /// Identical notifications within this time of the first are read once; `.zero` turns this off.
    package let window: Duration
    package let capacity: Int
    private var seenAt: [String: ContinuousClock.Instant] = [:]
    private var order: [(key: String, at: ContinuousClock.Instant)] = []
    private var head = 0

    package init(window: Duration, capacity: Int = 10_000) {
        self.window = window
        self.capacity = max(1, capacity)
    }

    /// The key of a notification: provider, account and a digest of its body and signature.
    package static func key(provider: String, account: String, bodyDigest: String, signature: String?) -> String {
        "\(provider)|\(account)|\(bodyDigest)|\(signature ?? "")"
    }

    /// Records that a notification with `key` is about to be read at `now`. Returns `false` when an identical one
    /// was read less than ``window`` before (then it is not recorded again: the window runs from the read).
    package mutating func shouldRead(_ key: String, now: ContinuousClock.Instant) -> Bool {
        guard window > .zero else { return true }
        forgetExpired(now: now)
        if let at = seenAt[key], now - at < window { return false }
        if seenAt.count >= capacity { forgetOldest() }
        seenAt[key] = now
        order.append((key, now))
        return true
    }

    /// How many notifications are remembered.
    package var count: Int { seenAt.count }

    private mutating func forgetExpired(now: ContinuousClock.Instant) {
        while head < order.count, now - order[head].at >= window {
            let entry = order[head]
            if seenAt[entry.key] == entry.at { seenAt[entry.key] = nil }
            head += 1
        }
        compact()
    }

    private mutating func forgetOldest() {
        while head < order.count {
            let entry = order[head]
            head += 1
            if seenAt[entry.key] == entry.at {
                seenAt[entry.key] = nil
                break
            }
        }
        compact()
    }

    private mutating func compact() {
        if head > 1024, head * 2 > order.count {
            order.removeFirst(head)
            head = 0
        }
    }
}
