import PayBridgeContract
import PayBridgeRules
import PaymentVocabulary
import Prometheus
import ProviderCore

/// PayBridge's Prometheus metrics, on a registry of its own (no global bootstrap, so tests read their own).
///
/// Per provider and merchant account (`account`: `default` or a name of `AMANPAY_ACCOUNTS` / `FIRSTPAY_ACCOUNTS`;
/// `unknown` for every account a delivery names that this deployment does not have, so commands and checks naming
/// made-up accounts add no series (``unknownAccount``); absent on the series of deliveries put back or requeued
/// unread, whose account is not known):
/// - `paybridge_commands_total{provider,account,outcome}`: outcome = response | failed | retry | dead_letter |
///   put_back (returned to its queue by a pause) | deferred (its account is paused: into a delay queue, attempt
///   unchanged) | requeued (shutdown before its outcome was published)
/// - `paybridge_provider_request_duration_seconds{provider,account,operation}`: provider call latency
/// - `paybridge_retries_total{provider,account}`, `paybridge_dead_letters_total{provider,account,reason}`
/// - `paybridge_commands_in_flight{provider}` (per queue)
/// - `paybridge_callbacks_total{provider,account,result}`: result = accepted | unauthorized | bad_request |
///   unavailable | unknown_account (no `account`: the path named none this deployment has) at the endpoint;
///   confirmed | unknown_payment | not_confirmed when a worker handled the notification
/// - `paybridge_reconcile_checks_total{provider,account,result}`: scheduled status checks of payments left open,
///   result = changed | unchanged | read_failed | unresolved | invalid | off (``DeliveryPlan/ReconcileResult``);
///   `unresolved` counts the `paybridge.payment.unresolved.v1` events
/// - `paybridge_outcome_publish_failures_total{reason}`: a command's outcome (event, retry, dead letter) refused by
///   the broker and retried (reasons: ``OutcomeRetry/reasons``)
/// - `paybridge_unrouted_events`: messages waiting in `payments.unrouted` (events no queue was bound for)
/// - `paybridge_http_rejected_connections_total{listener,reason}`: closed on arrival, the listener at its
///   connection cap (reason = listener_cap) or the client at its own (client_cap)
/// - `paybridge_callbacks_rate_limited_total{provider,reason}`: callbacks answered 429 by ``CallbackRateLimiter``
///   (reason = account | unknown_account)
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

    /// The one `account` label value of every account a delivery names that is not configured: the account names
    /// come from outside (a command's `data.account`, a header), and a label value per name would make a new
    /// series for each. Not allowed as a configured account's name (``PayBridgeConfiguration/accountNames``).
    public static let unknownAccount = MerchantAccount("unknown")!

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

    func reconcileCheck(provider: String, account: MerchantAccount, result: String) {
        registry.makeCounter(descriptor: Self.reconcileChecks,
                             labels: [("provider", provider), ("account", account.name), ("result", result)])
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
            helpText: "Connections closed on arrival because the listener had PAYBRIDGE_HTTP_MAX_CONNECTIONS open "
                + "(reason listener_cap) or the client PAYBRIDGE_HTTP_MAX_CONNECTIONS_PER_CLIENT (client_cap).")
    }
    static var callbacksRateLimited: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "paybridge", metricName: "callbacks_rate_limited", unitName: "total",
            helpText: "Callbacks answered 429: their client had used PAYBRIDGE_CALLBACK_RATE_LIMIT for the provider "
                + "and account (reason account) or for paths naming no configured account (unknown_account).")
    }
    static var httpRequestReadTimeouts: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "paybridge", metricName: "http_request_read_timeouts", unitName: "total",
            helpText: "Connections closed because a request was not received within PAYBRIDGE_HTTP_IDLE_TIMEOUT_SECONDS.")
    }

    /// Counts a command's outcome; `account` `nil` for a delivery put back or requeued unread.
    func command(provider: String, account: MerchantAccount?, outcome: String) {
        registry.makeCounter(descriptor: Self.commands, labels: Self.labels(provider, account, ("outcome", outcome)))
            .increment()
    }

    /// `provider`, then `account` when known, then `last`.
    static func labels(_ provider: String, _ account: MerchantAccount?, _ last: (String, String))
        -> [(String, String)]
    {
        [("provider", provider)] + (account.map { [("account", $0.name)] } ?? []) + [last]
    }

    func providerLatency(provider: String, account: MerchantAccount, operation: String, _ duration: Duration) {
        Self.latencyHistogram(registry, provider: provider, account: account, operation: operation).record(duration)
    }

    static func latencyHistogram(
        _ registry: PrometheusCollectorRegistry, provider: String, account: MerchantAccount, operation: String
    ) -> DurationHistogram {
        registry.makeDurationHistogram(
            descriptor: PayBridgeMetrics.providerDuration,
            labels: [("provider", provider), ("account", account.name), ("operation", operation)],
            buckets: [.milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
                      .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(10)])
    }

    func deadLetter(provider: String, account: MerchantAccount?, reason: String) {
        registry.makeCounter(descriptor: Self.deadLetters, labels: Self.labels(provider, account, ("reason", reason)))
            .increment()
    }

    /// Counts a callback; `account` `nil` when the path named no account this deployment has.
    func callback(provider: String, account: MerchantAccount?, result: String) {
        registry.makeCounter(descriptor: Self.callbacks, labels: Self.labels(provider, account, ("result", result)))
            .increment()
    }

    /// The handles of one provider and its accounts, resolved once so the per-command path does no registry lookups.
    package func handles(provider: String, accounts: [MerchantAccount], operations: [String]) -> ProviderMetricHandles {
        ProviderMetricHandles(metrics: self, provider: provider, accounts: accounts, operations: operations)
    }

    /// The Prometheus text exposition of everything recorded.
    public func exposition() -> String {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return String(decoding: buffer, as: UTF8.self)
    }
}

/// One provider's metric handles, per merchant account (Prometheus collectors are thread-safe).
package struct ProviderMetricHandles: Sendable {
    private struct Key: Hashable {
        var account: MerchantAccount?
        var name: String
    }

    let metrics: PayBridgeMetrics
    let provider: String
    /// The provider's configured accounts: any other is counted as ``PayBridgeMetrics/unknownAccount``.
    private let configured: Set<MerchantAccount>
    private let outcomes: [Key: Counter]
    private let latency: [Key: DurationHistogram]
    private let retries: [MerchantAccount: Counter]
    private let inFlight: Gauge
    private let errors: [ErrorClass: Counter]

    init(metrics: PayBridgeMetrics, provider: String, accounts: [MerchantAccount], operations: [String]) {
        self.metrics = metrics
        self.provider = provider
        configured = Set(accounts)
        let registry = metrics.registry
        var outcomes: [Key: Counter] = [:]
        var latency: [Key: DurationHistogram] = [:]
        var retries: [MerchantAccount: Counter] = [:]
        for account in accounts {
            for outcome in ["response", "failed", "retry", "dead_letter", "requeued", "put_back", "deferred"] {
                outcomes[Key(account: account, name: outcome)] = registry.makeCounter(
                    descriptor: PayBridgeMetrics.commands,
                    labels: PayBridgeMetrics.labels(provider, account, ("outcome", outcome)))
            }
            for operation in operations {
                latency[Key(account: account, name: operation)] = PayBridgeMetrics.latencyHistogram(
                    registry, provider: provider, account: account, operation: operation)
            }
            retries[account] = registry.makeCounter(
                descriptor: PayBridgeMetrics.retries, labels: [("provider", provider), ("account", account.name)])
        }
        self.outcomes = outcomes
        self.latency = latency
        self.retries = retries
        inFlight = registry.makeGauge(descriptor: PayBridgeMetrics.inFlight, labels: [("provider", provider)])
        var errors: [ErrorClass: Counter] = [:]
        for errorClass in ErrorClass.allCases {
            errors[errorClass] = registry.makeCounter(
                descriptor: PayBridgeMetrics.providerErrors,
                labels: [("provider", provider), ("class", errorClass.rawValue)])
        }
        self.errors = errors
        // Registered with zero: the labels a worker can count for each account of this provider.
        for account in accounts {
            for reason in ErrorClass.allCases {
                _ = registry.makeCounter(descriptor: PayBridgeMetrics.deadLetters,
                                         labels: PayBridgeMetrics.labels(provider, account, ("reason", reason.rawValue)))
            }
            for result in DeliveryPlan.ReconcileResult.allCases {
                _ = registry.makeCounter(descriptor: PayBridgeMetrics.reconcileChecks,
                                         labels: PayBridgeMetrics.labels(provider, account, ("result", result.rawValue)))
            }
            for result in Self.callbackConfirmationResults {
                _ = registry.makeCounter(descriptor: PayBridgeMetrics.callbacks,
                                         labels: PayBridgeMetrics.labels(provider, account, ("result", result)))
            }
        }
    }

    /// What a worker counts in `paybridge_callbacks_total` for a callback notification it confirmed or not.
    static let callbackConfirmationResults = ["confirmed", "unknown_payment", "not_confirmed"]

    /// The account's label: itself when configured, else ``PayBridgeMetrics/unknownAccount`` (never a new series
    /// per name a delivery makes up).
    func label(_ account: MerchantAccount) -> MerchantAccount {
        configured.contains(account) ? account : PayBridgeMetrics.unknownAccount
    }

    func label(_ account: MerchantAccount?) -> MerchantAccount? {
        guard let account else { return nil }
        return label(account)
    }

    /// Counts a delivery's outcome; `account` `nil` for one put back or requeued before it was read.
    package func command(outcome: String, account: MerchantAccount? = nil) {
        let account = label(account)
        if let counter = outcomes[Key(account: account, name: outcome)] {
            counter.increment()
        } else {
            metrics.command(provider: provider, account: account, outcome: outcome)
        }
    }

    package func providerLatency(operation: String, account: MerchantAccount, _ duration: Duration) {
        let account = label(account)
        if let histogram = latency[Key(account: account, name: operation)] {
            histogram.record(duration)
        } else {
            metrics.providerLatency(provider: provider, account: account, operation: operation, duration)
        }
    }

    func retry(account: MerchantAccount) {
        let account = label(account)
        if let counter = retries[account] {
            counter.increment()
        } else {
            metrics.registry.makeCounter(descriptor: PayBridgeMetrics.retries,
                                         labels: [("provider", provider), ("account", account.name)]).increment()
        }
    }
    func outcomePublishFailure(reason: String) { metrics.outcomePublishFailure(reason: reason) }
    func deadLetter(reason: String, account: MerchantAccount?) {
        metrics.deadLetter(provider: provider, account: label(account), reason: reason)
    }
    /// A callback notification the worker handled; `account` `nil` when it named none that could be read.
    func callback(result: String, account: MerchantAccount?) {
        metrics.callback(provider: provider, account: label(account), result: result)
    }
    func reconcileCheck(result: String, account: MerchantAccount) {
        metrics.reconcileCheck(provider: provider, account: label(account), result: result)
    }
    package func inFlight(delta: Double) { inFlight.increment(by: delta) }
    func providerError(_ error: ProviderError) { errors[error.errorClass]?.increment() }
}
