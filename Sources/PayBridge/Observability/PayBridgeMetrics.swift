import Prometheus
import ProviderCore

/// PayBridge's Prometheus metrics, on a registry of its own (no global bootstrap, so tests read their own).
///
/// - `paybridge_commands_total{provider,outcome}`: outcome = response | failed | retry | dead_letter | put_back
///   (returned to its queue by a pause) | requeued (shutdown before its outcome was published)
/// - `paybridge_provider_request_duration_seconds{provider,operation}`: provider call latency
/// - `paybridge_retries_total{provider}`, `paybridge_dead_letters_total{provider,reason}`
/// - `paybridge_commands_in_flight{provider}`
/// - `paybridge_callbacks_total{provider,result}`: the endpoint counts accepted | unauthorized | bad_request |
///   unavailable, a worker confirmed | not_confirmed | unknown_payment
/// - `paybridge_reconcile_checks_total{provider,result}`: scheduled status checks of payments left open, result =
///   changed | unchanged | read_failed | unresolved | invalid | off (``DeliveryPlan/ReconcileResult``); `unresolved`
///   counts the `paybridge.payment.unresolved.v1` events
/// - `paybridge_outcome_publish_failures_total{reason}`: a command's outcome (event, retry, dead letter) refused by
///   the broker and retried (reasons: ``OutcomeRetry/reasons``)
/// - `paybridge_unrouted_events`: messages waiting in `payments.unrouted` (events no queue was bound for)
/// - `paybridge_http_rejected_connections_total{listener}`: closed on arrival, the listener at its connection cap
/// - `paybridge_http_request_read_timeouts_total{listener}`: closed, a request not received within the timeout
///   (listener = callbacks | admin)
/// - `paybridge_provider_errors_total{provider,class}`: provider calls (commands, callback confirmations,
///   reconciliation reads) that ended in a ``ProviderError``, by its ``ErrorClass``
/// - `paybridge_provider_paused{provider}`: 1 while the worker has stopped consuming the provider's queue (a
///   configuration failure, an open circuit, a run of bad signatures), else 0
/// - `paybridge_consumer_capacity{provider}`: commands the worker processes at once from the provider's queue
///   (`PAYBRIDGE_CONCURRENCY`, else the prefetch); utilisation = `paybridge_commands_in_flight` / this
///
/// Label sets known at start are registered with zero (``ProviderMetricHandles``, ``registerProcessWide()``,
/// ``registerCallbackEndpoint(providers:)``), so the series exist from the first scrape and `rate()` sees the
/// first increment.
public final class PayBridgeMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
    }

    /// Registers with zero the process-wide series whose labels are known at start: the outcome publish failures
    /// by reason and the unrouted-events gauge.
    func registerProcessWide() {
        for reason in OutcomeRetry.reasons {
            _ = registry.makeCounter(descriptor: Self.outcomePublishFailures, labels: [("reason", reason)])
        }
        _ = unroutedEvents
    }

    /// The callback endpoint's results (``CallbackHandler``), registered with zero for each configured provider.
    static let callbackEndpointResults = ["accepted", "unauthorized", "bad_request", "unavailable"]

    func registerCallbackEndpoint(providers: [String]) {
        for provider in providers {
            for result in Self.callbackEndpointResults {
                _ = registry.makeCounter(descriptor: Self.callbacks, labels: [("provider", provider), ("result", result)])
            }
        }
    }

    static var providerErrors: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "paybridge", metricName: "provider_errors", unitName: "total",
            helpText: "Provider calls that failed, by error class (transient, configuration, provider_error, "
                + "invalid_command, not_found, unknown, ...).")
    }
    static var providerPaused: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "paybridge", metricName: "provider", unitName: "paused",
            helpText: "1 while the worker has stopped consuming this provider's queue (configuration failure, open "
                + "circuit, bad signatures), else 0.")
    }
    static var consumerCapacity: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "paybridge", metricName: "consumer", unitName: "capacity",
            helpText: "Commands the worker processes at once from this provider's queue (PAYBRIDGE_CONCURRENCY, else "
                + "the prefetch).")
    }

    /// The gauges of one provider's queue worker.
    func providerPaused(provider: String) -> Gauge {
        registry.makeGauge(descriptor: Self.providerPaused, labels: [("provider", provider)])
    }

    func consumerCapacity(provider: String) -> Gauge {
        registry.makeGauge(descriptor: Self.consumerCapacity, labels: [("provider", provider)])
    }

    static var commands: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "paybridge", metricName: "commands", unitName: "total",
            helpText: "Commands by provider and outcome (response, failed, retry, dead_letter, put_back, requeued).")
    }
    static var providerDuration: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "paybridge", metricName: "provider_request_duration", unitName: "seconds",
            helpText: "Time to execute a command at the provider, retries included.")
    }
    static var retries: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "paybridge", metricName: "retries", unitName: "total",
            helpText: "Broker-side retries scheduled.")
    }
    static var deadLetters: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "paybridge", metricName: "dead_letters", unitName: "total",
            helpText: "Commands dead-lettered, by reason.")
    }
    static var inFlight: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "paybridge", metricName: "commands", unitName: "in_flight",
            helpText: "Commands being processed.")
    }
    static var callbacks: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "paybridge", metricName: "callbacks", unitName: "total",
            helpText: "Provider callbacks by result (published, ignored, unauthorized, bad_request, unavailable).")
    }

    static var reconcileChecks: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "paybridge", metricName: "reconcile_checks", unitName: "total",
            helpText: "Status checks of payments left open, by result (changed, unchanged, read_failed, unresolved, "
                + "invalid, off).")
    }

    func reconcileCheck(provider: String, result: String) {
        registry.makeCounter(descriptor: Self.reconcileChecks, labels: [("provider", provider), ("result", result)])
            .increment()
    }

    static var outcomePublishFailures: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "paybridge", metricName: "outcome_publish_failures", unitName: "total",
            helpText: "Outcome publishes the broker refused (each is retried with backoff while its command waits).")
    }
    static var unroutedEvents: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "paybridge", metricName: "unrouted_events", unitName: "",
            helpText: "Events in payments.unrouted: published while no queue was bound for their routing key.")
    }

    func outcomePublishFailure(reason: String) {
        registry.makeCounter(descriptor: Self.outcomePublishFailures, labels: [("reason", reason)]).increment()
    }

    /// The gauge ``UnroutedEventsMonitor`` sets.
    var unroutedEvents: Gauge { registry.makeGauge(descriptor: Self.unroutedEvents) }

    static var httpRejectedConnections: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "paybridge", metricName: "http_rejected_connections", unitName: "total",
            helpText: "Connections closed on arrival because the listener had PAYBRIDGE_HTTP_MAX_CONNECTIONS open.")
    }
    static var httpRequestReadTimeouts: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "paybridge", metricName: "http_request_read_timeouts", unitName: "total",
            helpText: "Connections closed because a request was not received within PAYBRIDGE_HTTP_IDLE_TIMEOUT_SECONDS.")
    }

    func command(provider: String, outcome: String) {
        registry.makeCounter(descriptor: Self.commands, labels: [("provider", provider), ("outcome", outcome)])
            .increment()
    }

    func providerLatency(provider: String, operation: String, _ duration: Duration) {
        Self.latencyHistogram(registry, provider: provider, operation: operation).record(duration)
    }

    static func latencyHistogram(_ registry: PrometheusCollectorRegistry, provider: String, operation: String)
        -> DurationHistogram
    {
        registry.makeDurationHistogram(
            descriptor: PayBridgeMetrics.providerDuration,
            labels: [("provider", provider), ("operation", operation)],
            buckets: [.milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
                      .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(10)])
    }

    func deadLetter(provider: String, reason: String) {
        registry.makeCounter(descriptor: Self.deadLetters, labels: [("provider", provider), ("reason", reason)])
            .increment()
    }

    func callback(provider: String, result: String) {
        registry.makeCounter(descriptor: Self.callbacks, labels: [("provider", provider), ("result", result)])
            .increment()
    }

    /// The handles of one provider, resolved once so the per-command path does no registry lookups.
    func handles(provider: String, operations: [String]) -> ProviderMetricHandles {
        ProviderMetricHandles(metrics: self, provider: provider, operations: operations)
    }

    /// The Prometheus text exposition of everything recorded.
    public func exposition() -> String {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return String(decoding: buffer, as: UTF8.self)
    }
}

/// One provider's metric handles (Prometheus collectors are thread-safe).
struct ProviderMetricHandles: Sendable {
    let metrics: PayBridgeMetrics
    let provider: String
    private let outcomes: [String: Counter]
    private let latency: [String: DurationHistogram]
    private let retries: Counter
    private let inFlight: Gauge
    private let errors: [ErrorClass: Counter]

    init(metrics: PayBridgeMetrics, provider: String, operations: [String]) {
        self.metrics = metrics
        self.provider = provider
        let registry = metrics.registry
        var outcomes: [String: Counter] = [:]
        for outcome in ["response", "failed", "retry", "dead_letter", "requeued", "put_back"] {
            outcomes[outcome] = registry.makeCounter(
                descriptor: PayBridgeMetrics.commands, labels: [("provider", provider), ("outcome", outcome)])
        }
        self.outcomes = outcomes
        var latency: [String: DurationHistogram] = [:]
        for operation in operations {
            latency[operation] = PayBridgeMetrics.latencyHistogram(registry, provider: provider, operation: operation)
        }
        self.latency = latency
        retries = registry.makeCounter(descriptor: PayBridgeMetrics.retries, labels: [("provider", provider)])
        inFlight = registry.makeGauge(descriptor: PayBridgeMetrics.inFlight, labels: [("provider", provider)])
        var errors: [ErrorClass: Counter] = [:]
        for errorClass in ErrorClass.allCases {
            errors[errorClass] = registry.makeCounter(
                descriptor: PayBridgeMetrics.providerErrors,
                labels: [("provider", provider), ("class", errorClass.rawValue)])
        }
        self.errors = errors
        // Registered with zero: the labels a worker can count for this provider.
        for reason in ErrorClass.allCases {
            _ = registry.makeCounter(descriptor: PayBridgeMetrics.deadLetters,
                                     labels: [("provider", provider), ("reason", reason.rawValue)])
        }
        for result in DeliveryPlan.ReconcileResult.allCases {
            _ = registry.makeCounter(descriptor: PayBridgeMetrics.reconcileChecks,
                                     labels: [("provider", provider), ("result", result.rawValue)])
        }
        for result in Self.callbackConfirmationResults {
            _ = registry.makeCounter(descriptor: PayBridgeMetrics.callbacks,
                                     labels: [("provider", provider), ("result", result)])
        }
    }

    /// What a worker counts in `paybridge_callbacks_total` for a callback notification it confirmed or not.
    static let callbackConfirmationResults = ["confirmed", "unknown_payment", "not_confirmed"]

    func command(outcome: String) {
        if let counter = outcomes[outcome] { counter.increment() } else { metrics.command(provider: provider, outcome: outcome) }
    }

    func providerLatency(operation: String, _ duration: Duration) {
        if let histogram = latency[operation] {
            histogram.record(duration)
        } else {
            metrics.providerLatency(provider: provider, operation: operation, duration)
        }
    }

    func retry() { retries.increment() }
    func outcomePublishFailure(reason: String) { metrics.outcomePublishFailure(reason: reason) }
    func deadLetter(reason: String) { metrics.deadLetter(provider: provider, reason: reason) }
    func inFlight(delta: Double) { inFlight.increment(by: delta) }
    func providerError(_ error: ProviderError) { errors[error.errorClass]?.increment() }
}
