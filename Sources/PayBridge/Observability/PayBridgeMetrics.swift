import Prometheus

/// PayBridge's Prometheus metrics, on a registry of its own (no global bootstrap, so tests read their own).
///
/// - `paybridge_commands_total{provider,outcome}`: outcome = response | failed | retry | dead_letter | requeued
/// - `paybridge_provider_request_duration_seconds{provider,operation}`: provider call latency
/// - `paybridge_retries_total{provider}`, `paybridge_dead_letters_total{provider,reason}`
/// - `paybridge_commands_in_flight{provider}`
/// - `paybridge_callbacks_total{provider,result}`: result = published | unauthorized | bad_request | unavailable
public final class PayBridgeMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
    }

    func command(provider: String, outcome: String) {
        registry.makeCounter(name: "paybridge_commands_total", labels: [("provider", provider), ("outcome", outcome)])
            .increment()
    }

    func providerLatency(provider: String, operation: String, _ duration: Duration) {
        registry.makeDurationHistogram(
            name: "paybridge_provider_request_duration_seconds",
            labels: [("provider", provider), ("operation", operation)],
            buckets: [.milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
                      .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(10)]
        ).record(duration)
    }

    func retry(provider: String) {
        registry.makeCounter(name: "paybridge_retries_total", labels: [("provider", provider)]).increment()
    }

    func deadLetter(provider: String, reason: String) {
        registry.makeCounter(name: "paybridge_dead_letters_total", labels: [("provider", provider), ("reason", reason)])
            .increment()
    }

    func inFlight(provider: String, delta: Double) {
        registry.makeGauge(name: "paybridge_commands_in_flight", labels: [("provider", provider)])
            .increment(by: delta)
    }

    func callback(provider: String, result: String) {
        registry.makeCounter(name: "paybridge_callbacks_total", labels: [("provider", provider), ("result", result)])
            .increment()
    }

    /// The Prometheus text exposition of everything recorded.
    public func exposition() -> String {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return String(decoding: buffer, as: UTF8.self)
    }
}
