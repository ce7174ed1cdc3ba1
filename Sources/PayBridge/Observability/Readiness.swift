import Synchronization

/// What `/readyz` reports: the broker connections are up, outcomes can be published, and no provider is paused
/// (configuration failure or open circuit).
public final class Readiness: Sendable {
    private struct State {
        /// Connections that are down, by name (`publish`, `consume`); each is tracked on its own, so one
        /// reconnecting never hides another that is still down.
        var disconnected: Set<String> = []
        var pausedProviders: [String: String] = [:]
        var outcomesBlocked: String?
    }
    private let state = Mutex(State())

    public init() {}

    /// Whether the broker connection `name` is up.
    func setConnection(_ name: String, connected: Bool) {
        state.withLock { s in
            if connected { s.disconnected.remove(name) } else { s.disconnected.insert(name) }
        }
    }
    /// The broker as a whole (a process with one connection, and tests).
    func setBrokerConnected(_ connected: Bool) { setConnection("", connected: connected) }
    func pause(provider: String, reason: String) { state.withLock { $0.pausedProviders[provider] = reason } }
    /// `reason` while commands' outcomes cannot be published (``OutcomeGate``), `nil` once they can.
    func setOutcomesBlocked(reason: String?) { state.withLock { $0.outcomesBlocked = reason } }
    func resume(provider: String) { state.withLock { _ = $0.pausedProviders.removeValue(forKey: provider) } }

    /// `true` when ready; otherwise the reasons.
    public func check() -> (ready: Bool, reasons: [String]) {
        state.withLock { s in
            var reasons: [String] = []
            for name in s.disconnected.sorted() {
                reasons.append(name.isEmpty ? "broker: disconnected" : "broker (\(name) connection): disconnected")
            }
            if let blocked = s.outcomesBlocked { reasons.append("outcomes: cannot be published (\(blocked))") }
            for (provider, reason) in s.pausedProviders.sorted(by: { $0.key < $1.key }) {
                reasons.append("\(provider): paused (\(reason))")
            }
            return (reasons.isEmpty, reasons)
        }
    }
}
