import Prometheus

/// One listener's connection-level counters, resolved once so the per-connection path does no registry lookups
/// (Prometheus collectors are thread-safe).
struct HTTPListenerCounters: Sendable {
    private let rejectedAtListenerCap: Counter
    private let rejectedAtClientCap: Counter
    private let requestReadTimeouts: Counter

    init(metrics: PayBridgeMetrics, listener: String) {
        rejectedAtListenerCap = metrics.registry.makeCounter(
            descriptor: PayBridgeMetrics.httpRejectedConnections,
            labels: [("listener", listener), ("reason", "listener_cap")])
        rejectedAtClientCap = metrics.registry.makeCounter(
            descriptor: PayBridgeMetrics.httpRejectedConnections,
            labels: [("listener", listener), ("reason", "client_cap")])
        requestReadTimeouts = metrics.registry.makeCounter(
            descriptor: PayBridgeMetrics.httpRequestReadTimeouts, labels: [("listener", listener)])
    }

    /// A connection closed on arrival because the listener (`reason="listener_cap"`) or its client
    /// (`reason="client_cap"`) was at its cap.
    func connectionRejected(_ admission: HTTPConnectionGuard.Admission) {
        switch admission {
        case .listenerFull: rejectedAtListenerCap.increment()
        case .clientFull: rejectedAtClientCap.increment()
        case .admitted: break
        }
    }
    /// A connection closed because its request did not arrive completely in time.
    func requestReadTimedOut() { requestReadTimeouts.increment() }
}
