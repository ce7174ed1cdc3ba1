import Synchronization

/// What `/readyz` reports: the broker connections are up, outcomes can be published, and no provider is paused
/// (configuration failure or open circuit); with several broker nodes configured, also the node each connection
/// is on.
public final class Readiness: Sendable {
    private struct State {
        /// Connections that are down, by name (`publish`, `consume`); each is tracked on its own, so one
        /// reconnecting never hides another that is still down.
        var disconnected: Set<String> = []
        /// `host:port` of the node each connection is on (or was last on), by name; only set when the broker
        /// setting lists several nodes.
        var nodes: [String: String] = [:]
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
    /// The broker node (`host:port`) connection `name` is on: reported by `/readyz`.
    func setNode(_ name: String, node: String) { state.withLock { $0.nodes[name] = node } }
    /// The broker as a whole (a process with one connection, and tests).
    func setBrokerConnected(_ connected: Bool) { setConnection("", connected: connected) }
    func pause(provider: String, reason: String) { state.withLock { $0.pausedProviders[provider] = reason } }
    /// `reason` while commands' outcomes cannot be published (``OutcomeGate``), `nil` once they can.
    func setOutcomesBlocked(reason: String?) { state.withLock { $0.outcomesBlocked = reason } }
    func resume(provider: String) { state.withLock { _ = $0.pausedProviders.removeValue(forKey: provider) } }

    /// `true` when ready; otherwise the reasons.
    public func check() -> (ready: Bool, reasons: [String]) {
        state.withLock { s in
            let reasons = Self.reasons(s)
            return (reasons.isEmpty, reasons)
        }
    }

    /// `/readyz`'s body: `ready`, or one reason a line; then, when nodes are known, a line per connected connection
    /// naming its node (`broker (publish connection): on h1:5672`).
    public func report() -> (ready: Bool, text: String) {
        state.withLock { s in
            let reasons = Self.reasons(s)
            let on = s.nodes.filter { !s.disconnected.contains($0.key) }.sorted { $0.key < $1.key }.map { name, node in
                name.isEmpty ? "broker: on \(node)" : "broker (\(name) connection): on \(node)"
            }
            return (reasons.isEmpty, ((reasons.isEmpty ? ["ready"] : reasons) + on).joined(separator: "\n") + "\n")
        }
    }

    private static func reasons(_ s: State) -> [String] {
        var reasons: [String] = []
        for name in s.disconnected.sorted() {
            var reason = name.isEmpty ? "broker: disconnected" : "broker (\(name) connection): disconnected"
            if let node = s.nodes[name] { reason += " (last on \(node))" }
            reasons.append(reason)
        }
        if let blocked = s.outcomesBlocked { reasons.append("outcomes: cannot be published (\(blocked))") }
        for (provider, reason) in s.pausedProviders.sorted(by: { $0.key < $1.key }) {
            reasons.append("\(provider): paused (\(reason))")
        }
        return reasons
    }
}
