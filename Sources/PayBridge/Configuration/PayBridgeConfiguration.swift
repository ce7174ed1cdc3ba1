import AMQP
import Amanpay
import FirstPay
import Foundation
import PayBridgeContract
import PayBridgeRules
import PayBridgeTopology
import PayBridgeTracing
import ProviderCore
import Tracing

/// PayBridge's settings, read from the environment by ``fromEnvironment(_:)``: one function shared by the
/// executable and the tests. Secrets can come from files (`…_FILE`).
public struct PayBridgeConfiguration: Sendable {
    /// `PAYBRIDGE_AMQP_URL`, default `amqp://guest:guest@127.0.0.1:5672/%2F`: one URL, or a cluster's nodes as
    /// comma-separated URLs (``AMQPConfiguration/nodes``; one vhost).
    public var amqp: AMQPConfiguration
    /// `PAYBRIDGE_PREFETCH`: unacked commands per provider queue (= commands in flight), default 50.
    public var prefetch: UInt16 = 50
    /// `PAYBRIDGE_CONCURRENCY`: commands processed at once per provider queue, at most the prefetch; default = prefetch.
    public var concurrency: Int? = nil
    /// `PAYBRIDGE_HTTP_HOST`, default `127.0.0.1` (set `0.0.0.0` in a container).
    public var httpHost: String = "127.0.0.1"
    /// `PAYBRIDGE_HTTP_PORT`, default 8080: provider callbacks (`/callbacks/*`) only; not opened by the worker role.
    public var httpPort: Int = 8080
    /// `PAYBRIDGE_ADMIN_HOST`, default `127.0.0.1`: the listener of `/healthz`, `/readyz`, `/metrics`.
    public var adminHost: String = "127.0.0.1"
    /// `PAYBRIDGE_ADMIN_PORT`, default 9090: `/healthz`, `/readyz`, `/metrics` (every role).
    public var adminPort: Int = 9090
    /// `PAYBRIDGE_HTTP_IDLE_TIMEOUT_SECONDS`, default 30: a connection is closed when a request has not arrived
    /// completely this long after the connection started waiting for it (idle keep-alive, partial or trickled
    /// requests). Both listeners.
    public var httpIdleTimeout: Duration = .seconds(30)
    /// `PAYBRIDGE_HTTP_MAX_CONNECTIONS`, default 512: connections open at once per listener; more are closed on
    /// arrival.
    public var httpMaxConnections: Int = 512
    /// `PAYBRIDGE_HTTP_MAX_CONNECTIONS_PER_CLIENT`, default 64: connections open at once per listener from one
    /// client address (an IPv4 address, an IPv6 /64); more from it are closed on arrival.
    public var httpMaxConnectionsPerClient: Int = 64
    /// `PAYBRIDGE_CALLBACK_RATE_LIMIT` / `PAYBRIDGE_CALLBACK_RATE_BURST`, default 20 per second and a burst of twice
    /// that: callbacks accepted per (client address, provider, account) before 429; a limit of 0 turns it off.
    /// See ``CallbackRateLimit``.
    public var callbackRateLimit: CallbackRateLimit = .default
    /// `PAYBRIDGE_EVENT_PII`: `masked` (default; account and wallet numbers in events keep their last 4
    /// characters) or `full`.
    public var eventPII: EventPII = .masked
    /// `PAYBRIDGE_RECONCILE_SCHEDULE`: when a payment a create left open is checked again (comma-separated delays,
    /// each from the previous check; `off` disables), default `1m,5m,15m,1h,6h,24h`. See ``ReconcileSchedule``.
    public var reconcileSchedule: ReconcileSchedule = .default
    /// `PAYBRIDGE_HISTORY_MAX_AGE` / `PAYBRIDGE_HISTORY_MAX_BYTES`: retention of the event history stream
    /// `payments.history`, default 7 days and no size limit. See ``HistoryRetention``.
    public var historyRetention: HistoryRetention = .default
    /// `PAYBRIDGE_MAX_ATTEMPTS`: broker-side attempts before `retries_exhausted`, default 5.
    public var maxAttempts: Int = 5
    /// `PAYBRIDGE_BAD_SIGNATURE_PAUSE_THRESHOLD`: distinct commands in a row whose provider responses fail their
    /// signature check before the provider is paused, default 5 (one bad signature is the command's
    /// `provider_error`; see ``BadSignatureStreak``).
    public var badSignaturePauseThreshold: Int = BadSignatureStreak.defaultThreshold
    /// `PAYBRIDGE_PUBLISH_TIMEOUT_SECONDS`: longest wait for the broker's confirm of an event, default 10; past it
    /// a callback is answered 503 (the provider retries) and a command is requeued.
    public var publishTimeout: Duration = .seconds(10)
    /// `PAYBRIDGE_SHUTDOWN_TIMEOUT_SECONDS`: longest graceful drain, default 25 (below Kubernetes' 30).
    public var shutdownTimeout: Duration = .seconds(25)
    /// `PAYBRIDGE_MAX_COMMAND_BYTES`: larger command bodies are dead-lettered unparsed (`COMMAND_TOO_LARGE`),
    /// default 256 KiB.
    public var maxCommandBytes: Int = CommandDecoder.defaultMaximumBytes
    /// `PAYBRIDGE_CALLBACK_DEDUP_SECONDS`: identical callback notifications (same provider, account, body and
    /// signature) within this time of the one a worker read are acked without another status read or event;
    /// default 30, 0 turns it off. Per worker process.
    public var callbackDedupWindow: Duration = .seconds(30)
    /// `PAYBRIDGE_TRUST_DEFAULT_EXCHANGE` (`true`/`false`, default `false`): also honour PayBridge's `x-paybridge-*`
    /// headers on deliveries that came through the default exchange, as versions before `payments.internal` sent
    /// their callback notifications and put-backs. Only for the upgrade window (docs/operations-broker.md, "Upgrading"): the documented
    /// roles give nobody the default exchange, but a broker with wider grants would let a producer impersonate.
    public var trustDefaultExchange = false
    /// `PAYBRIDGE_HTTP_TRANSPORT`: the HTTP client the providers are called with, `nio` (default) or
    /// `asynchttpclient` (the one before, for one release). See ``ProviderHTTPTransportKind``.
    public var httpTransport: ProviderHTTPTransportKind = .default
    /// `PAYBRIDGE_CPU_SCHEDULING`: `batch` or `normal`, the threads' Linux scheduling policy; `nil` (unset): the
    /// role's default, `batch` for `worker`, the policy the process started with for `callbacks` and `run`. See
    /// ``CPUScheduling``.
    public var cpuScheduling: CPUScheduling?
    /// `PAYBRIDGE_HTTP_EVENT_LOOPS` (1–256): the NIO group's event loops; `nil` (unset): the role's default, half
    /// the cores for `worker`, NIO's own for `callbacks` and `run`. See ``HTTPEventLoops``.
    public var httpEventLoops: Int?
    /// How a command whose outcome the broker refused waits before publishing it again.
    var outcomeRetry = OutcomeRetry()
    /// How long a provider's queue is left alone after a configuration failure or an open circuit: the first
    /// pause, doubling up to the second.
    var providerPause: (initial: Duration, maximum: Duration) = (.seconds(5), .seconds(300))
    /// How often `paybridge_unrouted_events` is refreshed from the broker.
    var unroutedPollInterval: Duration = .seconds(15)
    /// Starts the spans and propagates W3C trace context (command → provider calls → events; callback →
    /// notification → events). Default: ``PayBridgeTracer`` without a recorder (propagation and trace ids in logs,
    /// nothing exported); `paybridge` built with the `OTLPExporter` trait sets swift-otel's tracer when the
    /// `OTEL_*` environment asks for traces; tests set one with an in-memory recorder.
    public var tracer: any Tracer = PayBridgeTracer()
    /// Amanpay's `default` account (`AMANPAY_*`); `nil` when it is not configured.
    public var amanpay: AmanpayConfiguration?
    /// FirstPay's `default` account (`FIRSTPAY_*`); `nil` when it is not configured.
    public var firstpay: FirstPayConfiguration?
    /// Amanpay's named accounts (`AMANPAY_ACCOUNTS`, `AMANPAY_<ACCOUNT>_*`), `default` not included. Amanpay is
    /// enabled when it has any account.
    public var amanpayAccounts: [MerchantAccount: AmanpayConfiguration] = [:]
    /// FirstPay's named accounts (`FIRSTPAY_ACCOUNTS`, `FIRSTPAY_<ACCOUNT>_*`), `default` not included.
    public var firstpayAccounts: [MerchantAccount: FirstPayConfiguration] = [:]

    /// Every Amanpay account, `default` included when configured.
    public var allAmanpayAccounts: [MerchantAccount: AmanpayConfiguration] {
        var all = amanpayAccounts
        all[.default] = amanpay
        return all
    }
    /// Every FirstPay account, `default` included when configured.
    public var allFirstPayAccounts: [MerchantAccount: FirstPayConfiguration] {
        var all = firstpayAccounts
        all[.default] = firstpay
        return all
    }

    public init(amqp: AMQPConfiguration, amanpay: AmanpayConfiguration?, firstpay: FirstPayConfiguration?) {
        self.amqp = amqp
        self.amanpay = amanpay
        self.firstpay = firstpay
    }

    /// Reads every setting; a missing or invalid one throws an error that names it.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment)
        throws(ConfigurationError) -> PayBridgeConfiguration
    {
        let env = EnvironmentSettings(environment)
        var amqp = try env.amqpConfiguration().configuration
        amqp.connectionName = env.value("PAYBRIDGE_CONNECTION_NAME") ?? "paybridge@\(ProcessInfo.processInfo.hostName)"

        let amanpayAccounts = try Self.amanpayAccounts(env)
        let firstpayAccounts = try Self.firstpayAccounts(env)
        guard !amanpayAccounts.isEmpty || !firstpayAccounts.isEmpty else {
            throw ConfigurationError(setting: "AMANPAY_BASE_URL / FIRSTPAY_BASE_URL",
                                     problem: "configure at least one provider")
        }
        var configuration = PayBridgeConfiguration(amqp: amqp, amanpay: amanpayAccounts[.default],
                                                   firstpay: firstpayAccounts[.default])
        configuration.amanpayAccounts = amanpayAccounts.filter { $0.key != .default }
        configuration.firstpayAccounts = firstpayAccounts.filter { $0.key != .default }
        if let prefetch = try env.integer("PAYBRIDGE_PREFETCH", in: 1...65535) { configuration.prefetch = UInt16(prefetch) }
        if let concurrency = try env.integer("PAYBRIDGE_CONCURRENCY", in: 1...65535) {
            guard concurrency <= Int(configuration.prefetch) else {
                throw ConfigurationError(setting: "PAYBRIDGE_CONCURRENCY",
                                         problem: "must not exceed PAYBRIDGE_PREFETCH (\(configuration.prefetch))")
            }
            configuration.concurrency = concurrency
        }
        if let port = try env.integer("PAYBRIDGE_HTTP_PORT", in: 0...65535) { configuration.httpPort = port }
        if let host = env.value("PAYBRIDGE_HTTP_HOST") { configuration.httpHost = host }
        if let port = try env.integer("PAYBRIDGE_ADMIN_PORT", in: 0...65535) { configuration.adminPort = port }
        if let host = env.value("PAYBRIDGE_ADMIN_HOST") { configuration.adminHost = host }
        if let seconds = try env.integer("PAYBRIDGE_HTTP_IDLE_TIMEOUT_SECONDS", in: 1...3600) {
            configuration.httpIdleTimeout = .seconds(seconds)
        }
        if let connections = try env.integer("PAYBRIDGE_HTTP_MAX_CONNECTIONS", in: 1...1_000_000) {
            configuration.httpMaxConnections = connections
        }
        if let connections = try env.integer("PAYBRIDGE_HTTP_MAX_CONNECTIONS_PER_CLIENT", in: 1...1_000_000) {
            configuration.httpMaxConnectionsPerClient = connections
        }
        configuration.callbackRateLimit = try env.callbackRateLimit()
        if configuration.adminPort != 0, configuration.adminPort == configuration.httpPort {
            throw ConfigurationError(setting: "PAYBRIDGE_ADMIN_PORT",
                                     problem: "must differ from PAYBRIDGE_HTTP_PORT (\(configuration.httpPort))")
        }
        if let attempts = try env.integer("PAYBRIDGE_MAX_ATTEMPTS", in: 1...100) { configuration.maxAttempts = attempts }
        if let text = env.value("PAYBRIDGE_EVENT_PII") {
            guard let pii = EventPII(rawValue: text) else {
                throw ConfigurationError(setting: "PAYBRIDGE_EVENT_PII", problem: "must be masked or full")
            }
            configuration.eventPII = pii
        }
        if let schedule = try env.reconcileSchedule() { configuration.reconcileSchedule = schedule }
        configuration.historyRetention = try env.historyRetention()
        if let threshold = try env.integer("PAYBRIDGE_BAD_SIGNATURE_PAUSE_THRESHOLD", in: 1...10_000) {
            configuration.badSignaturePauseThreshold = threshold
        }
        if let seconds = try env.integer("PAYBRIDGE_PUBLISH_TIMEOUT_SECONDS", in: 1...600) {
            configuration.publishTimeout = .seconds(seconds)
        }
        if let text = env.value("PAYBRIDGE_TRUST_DEFAULT_EXCHANGE") {
            guard let trust = Bool(text) else {
                throw ConfigurationError(setting: "PAYBRIDGE_TRUST_DEFAULT_EXCHANGE", problem: "must be true or false")
            }
            configuration.trustDefaultExchange = trust
        }
        if let seconds = try env.integer("PAYBRIDGE_CALLBACK_DEDUP_SECONDS", in: 0...3600) {
            configuration.callbackDedupWindow = .seconds(seconds)
        }
        if let bytes = try env.integer("PAYBRIDGE_MAX_COMMAND_BYTES", in: 1024...(64 << 20)) {
            configuration.maxCommandBytes = bytes
        }
        if let text = env.value("PAYBRIDGE_HTTP_TRANSPORT") {
            guard let kind = ProviderHTTPTransportKind(rawValue: text) else {
                throw ConfigurationError(setting: "PAYBRIDGE_HTTP_TRANSPORT", problem: "must be nio or asynchttpclient")
            }
            configuration.httpTransport = kind
        }
        if let text = env.value("PAYBRIDGE_CPU_SCHEDULING") {
            guard let scheduling = CPUScheduling(rawValue: text) else {
                throw ConfigurationError(setting: "PAYBRIDGE_CPU_SCHEDULING", problem: "must be batch or normal")
            }
            configuration.cpuScheduling = scheduling
        }
        configuration.httpEventLoops = try env.integer("PAYBRIDGE_HTTP_EVENT_LOOPS", in: HTTPEventLoops.allowed)
        if let seconds = try env.integer("PAYBRIDGE_SHUTDOWN_TIMEOUT_SECONDS", in: 1...3600) {
            configuration.shutdownTimeout = .seconds(seconds)
        }
        return configuration
    }
}

/// A setting is missing or invalid. The message names it and never contains a secret's value.
public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    public var setting: String
    public var problem: String
    public var description: String { "configuration: \(setting): \(problem)" }
}

extension PayBridgeConfiguration {
    /// `AMANPAY_RESPONSE_SIGNATURE_FIELDS`: A2's signed fields, comma-separated, in order (1...16 names of letters,
    /// digits and `_`).
    static func signatureFields(_ text: String?, setting: String = "AMANPAY_RESPONSE_SIGNATURE_FIELDS")
        throws(ConfigurationError) -> [String]?
    {
        guard let text else { return nil }
        let fields = text.split(separator: ",", omittingEmptySubsequences: false)
            .map { String($0).trimmingCharacters(in: .whitespaces) }
        let valid = (1...16).contains(fields.count) && fields.allSatisfy { field in
            (1...64).contains(field.utf8.count)
                && field.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "_") }
        }
        guard valid else {
            throw ConfigurationError(setting: setting,
                                     problem: "must be 1 to 16 comma-separated field names (letters, digits, _)")
        }
        return fields
    }

    /// A provider path setting: starts with `/`, printable ASCII without spaces, at most 256 characters.
    static func path(_ text: String?, _ setting: String) throws(ConfigurationError) -> String? {
        guard let text else { return nil }
        guard text.hasPrefix("/"), text.utf8.count <= 256,
            text.utf8.allSatisfy({ (0x21...0x7E).contains($0) && $0 != UInt8(ascii: "?") && $0 != UInt8(ascii: "#") })
        else {
            throw ConfigurationError(setting: setting,
                                     problem: "must be a path starting with / (printable ASCII, no spaces, ? or #)")
        }
        return text
    }
}
