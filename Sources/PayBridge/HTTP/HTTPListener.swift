import Hummingbird
import Logging
import NIOCore
import Synchronization

/// One HTTP listener: a Hummingbird server for a router on `host:port`, every connection under the listener's
/// ``HTTPListenerLimits`` (connection cap, request read deadline, body limit). Reports the port it bound, which is
/// what port 0 (a free port, in tests) needs.
final class HTTPListener: Sendable {
    /// `callbacks` or `admin`: in logs and as the `listener` label of the connection metrics.
    let name: String
    let host: String
    let port: Int
    let limits: HTTPListenerLimits
    let logger: Logger
    private let connectionGuard: HTTPConnectionGuard
    private let counters: HTTPListenerCounters
    private let binding = Mutex(Binding())

    private struct Binding {
        var port: Int?
        var waiters: [CheckedContinuation<Int, Never>] = []
    }

    init(name: String, host: String, port: Int, limits: HTTPListenerLimits, metrics: PayBridgeMetrics, logger: Logger) {
        self.name = name
        self.host = host
        self.port = port
        self.limits = limits
        self.logger = logger
        connectionGuard = HTTPConnectionGuard(maximumConnections: limits.maximumConnections,
                                              maximumConnectionsPerClient: limits.maximumConnectionsPerClient)
        counters = HTTPListenerCounters(metrics: metrics, listener: name)
    }

    /// Connections open now (admitted, not yet closed).
    var openConnections: Int { connectionGuard.open }

    /// The bound port once listening; 0 when the listener stopped without ever listening.
    func boundPort() async -> Int {
        await withCheckedContinuation { continuation in
            let port = binding.withLock { binding -> Int? in
                if binding.port == nil { binding.waiters.append(continuation) }
                return binding.port
            }
            if let port { continuation.resume(returning: port) }
        }
    }

    /// Serves `router` until the service group shuts down gracefully.
    func run<Context: RequestContext>(router: Router<Context>) async throws
    where Context.Source == ApplicationRequestContextSource {
        let app = Application(
            router: router, server: .http1(configuration: .init(additionalChannelHandlers: self.connectionHandlers())),
            configuration: .init(address: .hostname(host, port: port)),
            onServerRunning: { [self] channel in self.listening(port: channel.localAddress?.port ?? 0) },
            logger: logger)
        // Whoever waits for the port must not wait forever if the server stops without ever listening.
        defer { if binding.withLock({ $0.port }) == nil { listening(port: 0) } }
        try await app.run()
    }

    /// The handlers each new connection gets, in pipeline order (after HTTP decoding, before Hummingbird's).
    /// The deadline comes before the body limit so that it sees every request part the client sends and the 413
    /// the body limit writes.
    private func connectionHandlers() -> [any RemovableChannelHandler] {
        [
            ConnectionCapHandler(connectionGuard: connectionGuard, counters: counters),
            RequestReadDeadlineHandler(timeout: limits.requestReadTimeout, counters: counters),
            RequestBodyLimitHandler(maximumBodyBytes: limits.maximumRequestBodyBytes),
        ]
    }

    private func listening(port: Int) {
        let waiters = binding.withLock { binding in
            binding.port = port
            defer { binding.waiters.removeAll() }
            return binding.waiters
        }
        if port != 0 {
            logger.info("HTTP listening", metadata: [
                "http.listener": "\(name)", "http.host": "\(host)", "http.port": "\(port)",
                "http.max_connections": "\(limits.maximumConnections)",
                "http.max_connections_per_client": "\(limits.maximumConnectionsPerClient)",
                "http.request_read_timeout": "\(limits.requestReadTimeout)",
            ])
        }
        for waiter in waiters { waiter.resume(returning: port) }
    }
}
