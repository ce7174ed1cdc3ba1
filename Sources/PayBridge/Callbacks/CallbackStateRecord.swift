import Synchronization

/// The last provider status each payment's callbacks reported, so stale Amanpay callbacks (A7) and duplicate
/// FirstPay postbacks (F7) are answered 2xx without publishing anything.
///
/// Per process and bounded (oldest forgotten first): with several callback instances, or after a restart, a
/// duplicate can still be published. That is safe: event ids are deterministic, so consumers de-duplicate, and a
/// final status never moves backwards for a consumer that applies the rule "a final status never changes".
final class CallbackStateRecord: Sendable {
    private struct State {
        var statuses: [String: (paymentId: String?, status: String)] = [:]
        /// Keys in the order they were first recorded, as a ring once full: `oldest` is the next to forget.
        /// (A `removeFirst()` on a 100,000-entry array would move every key, under the lock, per callback.)
        var order: [String] = []
        var oldest = 0
    }
    private let state = Mutex(State())
    let capacity: Int

    init(capacity: Int = 100_000) { self.capacity = max(1, capacity) }

    func recorded(_ key: String) -> (paymentId: String?, status: String)? {
        state.withLock { $0.statuses[key] }
    }

    func record(_ key: String, paymentId: String?, status: String) {
        state.withLock { s in
            guard s.statuses.updateValue((paymentId, status), forKey: key) == nil else { return }
            if s.order.count < capacity {
                s.order.append(key)
            } else {
                s.statuses.removeValue(forKey: s.order[s.oldest])
                s.order[s.oldest] = key
                s.oldest = (s.oldest + 1) % capacity
            }
        }
    }
}
