import AMQP
import Amanpay
import FirstPay
import Logging
import PayBridgeContract
import ProviderCore
import ServiceLifecycle
import UnixSignals
import PayBridgeTopology

/// A running PayBridge: worker, callback endpoint, or both (`paybridge worker | callbacks | run`).
///
/// Two HTTP listeners: callbacks (`PAYBRIDGE_HTTP_HOST`/`PORT`, roles `callbacks` and `all`) and admin
/// (`PAYBRIDGE_ADMIN_HOST`/`PORT`: health, readiness, metrics; every role).
///
/// ``start(configuration:role:logger:)`` connects to the broker (two connections: consuming and publishing,
/// so flow control on publishes never stalls deliveries), declares the topology, and builds the services: the
/// connections (``BrokerConnectionService``, readiness per connection), the providers' one shared HTTP client
/// (``ProviderHTTPClient``, `PAYBRIDGE_HTTP_TRANSPORT`), the listeners and the workers; ``run()`` serves until SIGTERM/SIGINT or
/// ``triggerGracefulShutdown()``, and the group drains and closes everything in reverse order.
/// The executable and the tests build it the same way.
public final class PayBridgeRuntime: Sendable {
    public enum Role: String, Sendable {
        /// Consume and execute commands (plus the admin listener; no callbacks listener).
        case worker
        /// Receive provider callbacks (plus the admin listener).
        case callbacks
        /// Both in one process.
        case all
    }

    public let configuration: PayBridgeConfiguration
    public let role: Role
    public let metrics: PayBridgeMetrics
    public let readiness: Readiness
    let logger: Logger
    /// The callbacks listener; `nil` for the worker role.
    let callbackServer: CallbackHTTPServer?
    let adminServer: AdminHTTPServer
    /// Runs every service (connections, workers, listeners, the HTTP client) and stops them in order.
    let serviceGroup: ServiceGroup

    private init(
        configuration: PayBridgeConfiguration, role: Role, metrics: PayBridgeMetrics, readiness: Readiness,
        logger: Logger, callbackServer: CallbackHTTPServer?, adminServer: AdminHTTPServer, serviceGroup: ServiceGroup
    ) {
        self.configuration = configuration
        self.role = role
        self.metrics = metrics
        self.readiness = readiness
        self.logger = logger
        self.callbackServer = callbackServer
        self.adminServer = adminServer
        self.serviceGroup = serviceGroup
    }

    /// Connects, declares the topology and assembles the services.
    /// - Parameter signals: signals that start a graceful shutdown (none in tests).
    public static func start(
        configuration: PayBridgeConfiguration, role: Role, logger: Logger,
        signals: [UnixSignal] = [.sigterm, .sigint], additionalServices: [any Service] = []
    ) async throws -> PayBridgeRuntime {
        let metrics = PayBridgeMetrics()
        metrics.registerProcessWide()
        let readiness = Readiness()
        var publishConfig = configuration.amqp
        publishConfig.connectionName = configuration.amqp.connectionName + " publish"
        let publishConnection = try await AMQPConnection.connect(publishConfig, logger: logger)
        var consumeConnection: AMQPConnection?
        do {
            try await BrokerSetup.declare(on: publishConnection, reconcileSchedule: configuration.reconcileSchedule,
                                          historyRetention: configuration.historyRetention, logger: logger)
            if role != .callbacks {
                var consumeConfig = configuration.amqp
                consumeConfig.connectionName = configuration.amqp.connectionName + " consume"
                consumeConnection = try await AMQPConnection.connect(consumeConfig, logger: logger)
            }
        } catch {
            await publishConnection.close()
            throw error
        }
        // One HTTP client for every provider (`PAYBRIDGE_HTTP_TRANSPORT`): its connect timeout is the shortest
        // configured, its pool the largest; each account's transport keeps its own deadline and response bound.
        let httpClient = ProviderHTTPClient(
            kind: configuration.httpTransport,
            sharedBy: configuration.allAmanpayAccounts.values.map(\.timeouts)
                + configuration.allFirstPayAccounts.values.map(\.timeouts))
        // One client per merchant account: its own keys and its own circuit breaker.
        var amanpay: [MerchantAccount: AmanpayClient] = [:]
        for (account, accountConfiguration) in configuration.allAmanpayAccounts {
            var clientLogger = Logger(label: "paybridge.provider.amanpay")
            clientLogger[metadataKey: PayBridgeLoggingKeys.account] = "\(account.name)"
            amanpay[account] = AmanpayClient(
                configuration: accountConfiguration,
                transport: httpClient.transport(timeouts: accountConfiguration.timeouts, tracer: configuration.tracer),
                logger: clientLogger)
        }
        var firstpay: [MerchantAccount: FirstPayClient] = [:]
        for (account, accountConfiguration) in configuration.allFirstPayAccounts.sorted(by: { $0.key < $1.key }) {
            var clientLogger = Logger(label: "paybridge.provider.firstpay")
            clientLogger[metadataKey: PayBridgeLoggingKeys.account] = "\(account.name)"
            do {
                firstpay[account] = try FirstPayClient(
                    configuration: accountConfiguration,
                    transport: httpClient.transport(timeouts: accountConfiguration.timeouts,
                                                    tracer: configuration.tracer),
                    logger: clientLogger)
            } catch {
                await publishConnection.close()
                await consumeConnection?.close()
                try? await httpClient.shutdown()
                let prefix = PayBridgeConfiguration.prefix("FIRSTPAY", account)
                throw ConfigurationError(setting: "\(prefix)PUBLIC_KEY_FILE / \(prefix)MERCHANT_PRIVATE_KEY_FILE",
                                         problem: "not a usable RSA key (\(error))")
            }
        }

        var publisher = OutcomePublisher(connection: publishConnection, confirmTimeout: configuration.publishTimeout)
        publisher.tracing = MessageTracing(tracer: configuration.tracer)
        let gate = OutcomeGate(readiness: readiness)
        var workers: [ProviderQueueWorker] = []
        if let consumeConnection {
            var providers: [[MerchantAccount: any PaymentCommandExecutor]] = []
            if !amanpay.isEmpty {
                providers.append(amanpay.mapValues { AmanpayCommandExecutor(client: $0) as any PaymentCommandExecutor })
            }
            if !firstpay.isEmpty {
                providers.append(firstpay.mapValues { FirstPayCommandExecutor(client: $0) as any PaymentCommandExecutor })
            }
            for accounts in providers {
                let executor = accounts.sorted(by: { $0.key < $1.key })[0].value
                var workerLogger = logger
                workerLogger[metadataKey: PayBridgeLoggingKeys.provider] = "\(executor.provider.rawValue)"
                let processor = CommandProcessor(
                    executor: executor, accounts: accounts, sink: publisher, gate: gate, metrics: metrics,
                    maxAttempts: configuration.maxAttempts,
                    maxCommandBytes: configuration.maxCommandBytes,
                    badSignaturePauseThreshold: configuration.badSignaturePauseThreshold,
                    outcomeRetry: configuration.outcomeRetry, eventPII: configuration.eventPII,
                    reconcileSchedule: configuration.reconcileSchedule, accountPause: configuration.providerPause,
                    notificationDedupWindow: configuration.callbackDedupWindow,
                    trustDefaultExchange: configuration.trustDefaultExchange,
                    tracer: configuration.tracer,
                    logger: workerLogger)
                workers.append(ProviderQueueWorker(
                    processor: processor, connection: consumeConnection,
                    settings: .init(prefetch: configuration.prefetch, concurrency: configuration.concurrency,
                                    initialPause: configuration.providerPause.initial,
                                    maximumPause: configuration.providerPause.maximum),
                    readiness: readiness, metrics: metrics, logger: workerLogger))
            }
        }
        let limits = HTTPListenerLimits(
            maximumConnections: configuration.httpMaxConnections,
            maximumConnectionsPerClient: configuration.httpMaxConnectionsPerClient,
            requestReadTimeout: configuration.httpIdleTimeout,
            maximumRequestBodyBytes: CallbackHTTPServer.maximumCallbackBytes)
        let providerNames = [amanpay.isEmpty ? nil : "amanpay", firstpay.isEmpty ? nil : "firstpay"].compactMap { $0 }
        if role != .worker {
            metrics.registerCallbackEndpoint(providers: providerNames)
        }
        let callbackServer = role == .worker
            ? nil
            : CallbackHTTPServer(
                host: configuration.httpHost, port: configuration.httpPort, limits: limits,
                rateLimit: configuration.callbackRateLimit,
                callbacks: {
                    var handler = CallbackHandler(amanpay: amanpay, firstpay: firstpay, publisher: publisher,
                                                  metrics: metrics, logger: logger)
                    handler.tracer = configuration.tracer
                    return handler
                }(),
                metrics: metrics, logger: logger)
        let adminServer = AdminHTTPServer(
            host: configuration.adminHost, port: configuration.adminPort, limits: limits, readiness: readiness,
            metrics: metrics, logger: logger)
        // Graceful shutdown runs in reverse order: workers stop consuming and drain first, then the callbacks listener
        // (callbacks may still be arriving for in-flight payments), the admin listener (probes, metrics), the
        // unrouted-events monitor, the broker connections (consume, then publish: after every outcome is out), and
        // the providers' HTTP client last.
        let connections: [any Service] = [
            BrokerConnectionService(name: "publish", connection: publishConnection, readiness: readiness,
                                    logger: logger),
        ] + (consumeConnection.map {
            [BrokerConnectionService(name: "consume", connection: $0, readiness: readiness, logger: logger)]
        } ?? [])
        let unrouted = UnroutedEventsMonitor(connection: publishConnection, metrics: metrics,
                                             interval: configuration.unroutedPollInterval, logger: logger)
        let listeners: [any Service] = [adminServer] + (callbackServer.map { [$0] } ?? [])
        // Additional services (the span exporter) start first and stop last, after every span has ended.
        let services: [any Service] = additionalServices + [httpClient] + connections
            + [unrouted] + listeners + workers
        var groupConfiguration = ServiceGroupConfiguration(
            services: services.map { .init(service: $0) }, gracefulShutdownSignals: signals, logger: logger)
        groupConfiguration.maximumGracefulShutdownDuration = configuration.shutdownTimeout
        let group = ServiceGroup(configuration: groupConfiguration)
        var brokerNodes: Logger.Metadata = [:]
        if configuration.amqp.nodes.count > 1 {
            // Which node of the list each connection landed on (shuffled per connection).
            brokerNodes["amqp.publish_node"] = "\(publishConnection.currentNode)"
            if let consumeConnection { brokerNodes["amqp.consume_node"] = "\(consumeConnection.currentNode)" }
        }
        logger.info("PayBridge started", metadata: brokerNodes.merging([
            PayBridgeLoggingKeys.role: "\(role.rawValue)", "amqp.url": "\(configuration.amqp.redactedURL)",
            PayBridgeLoggingKeys.providers: "\(providerNames)",
            PayBridgeLoggingKeys.accounts: "\(amanpay.keys.sorted().map { "amanpay/\($0)" } + firstpay.keys.sorted().map { "firstpay/\($0)" })",
            PayBridgeLoggingKeys.reconcileSchedule: "\(configuration.reconcileSchedule)",
            PayBridgeLoggingKeys.historyRetention: "\(configuration.historyRetention)",
            PayBridgeLoggingKeys.httpTransport: "\(configuration.httpTransport.rawValue)",
        ]) { $1 })
        return PayBridgeRuntime(
            configuration: configuration, role: role, metrics: metrics, readiness: readiness, logger: logger,
            callbackServer: callbackServer, adminServer: adminServer, serviceGroup: group)
    }

    /// Serves until a graceful shutdown; the group closes the connections and the HTTP client as it stops.
    public func run() async throws {
        try await serviceGroup.run()
        logger.info("PayBridge stopped")
    }

    /// Starts the graceful shutdown (what SIGTERM does).
    public func triggerGracefulShutdown() async {
        await serviceGroup.triggerGracefulShutdown()
    }

    /// The callbacks port once listening (useful with `PAYBRIDGE_HTTP_PORT=0`); 0 for the worker role, which has no
    /// callbacks listener.
    public func httpPort() async -> Int {
        await callbackServer?.boundPort() ?? 0
    }

    /// The admin port (`/healthz`, `/readyz`, `/metrics`) once listening (useful with `PAYBRIDGE_ADMIN_PORT=0`).
    public func adminPort() async -> Int {
        await adminServer.boundPort()
    }
}
