import Prometheus

/// One listener's connection-level counters, resolved once so the per-connection path does no registry lookups
/// (Prometheus collectors are thread-safe).
struct HTTPListenerCounters: Sendable {
    private let rejectedConnections: Counter
    private let requestReadTimeouts: Counter

    init(metrics: PayBridgeMetrics, listener: String) {
        rejectedConnections = metrics.registry.makeCounter(
            descriptor: PayBridgeMetrics.httpRejectedConnections, labels: [("listener", listener)])
        requestReadTimeouts = metrics.registry.makeCounter(
            descriptor: PayBridgeMetrics.httpRequestReadTimeouts, labels: [("listener", listener)])
    }

    /// A connection closed on arrival because the listener was at its cap.
    func connectionRejected() { rejectedConnections.increment() }
    /// A connection closed because its request did not arrive completely in time.
    func requestReadTimedOut() { requestReadTimeouts.increment() }
}
