import Hummingbird
import Logging
import NIOCore
import PayBridgeContract
import ServiceLifecycle
import Synchronization

/// The HTTP side of PayBridge as a `Service`: provider callbacks (when a ``CallbackHandler`` is given),
/// `/healthz`, `/readyz` and `/metrics`.
final class PayBridgeHTTPServer: Service, Sendable {
    /// Callback bodies larger than this are refused with 413.
    static let maximumCallbackBytes = 64 * 1024

    let host: String
    let port: Int
    let callbacks: CallbackHandler?
    let readiness: Readiness
    let metrics: PayBridgeMetrics
    let logger: Logger
    private let bound = Mutex<Int?>(nil)
    private let startedWaiters = Mutex<[CheckedContinuation<Int, Never>]>([])

    init(host: String, port: Int, callbacks: CallbackHandler?, readiness: Readiness, metrics: PayBridgeMetrics,
         logger: Logger) {
        self.host = host
        self.port = port
        self.callbacks = callbacks
        self.readiness = readiness
        self.metrics = metrics
        self.logger = logger
    }

    /// The bound port once the server runs (useful with port 0); 0 when it stopped without listening.
    func boundPort() async -> Int {
        if let port = bound.withLock({ $0 }) { return port }
        return await withCheckedContinuation { continuation in
            let port = bound.withLock { port -> Int? in
                if port == nil { startedWaiters.withLock { $0.append(continuation) } }
                return port
            }
            if let port { continuation.resume(returning: port) }
        }
    }

    func run() async throws {
        let router = Router()
        router.get("/healthz") { _, _ in "ok\n" }
        router.get("/readyz") { [readiness] _, _ -> Response in
            let (ready, reasons) = readiness.check()
            let text = ready ? "ready\n" : reasons.joined(separator: "\n") + "\n"
            return Response(status: ready ? .ok : .serviceUnavailable, headers: [.contentType: "text/plain"],
                            body: .init(byteBuffer: ByteBuffer(string: text)))
        }
        router.get("/metrics") { [metrics] _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                     body: .init(byteBuffer: ByteBuffer(string: metrics.exposition())))
        }
        if let callbacks {
            for provider in Provider.allCases {
                router.post("/callbacks/\(provider.rawValue)") { request, _ -> Response in
                    var request = request
                    let buffer = try await request.collectBody(upTo: Self.maximumCallbackBytes)
                    let answer = await callbacks.handle(
                        provider: provider, body: Array(buffer.readableBytesView),
                        authorization: request.headers[.authorization])
                    return Self.response(answer)
                }
            }
        }
        let app = Application(
            router: router, configuration: .init(address: .hostname(host, port: port)),
            onServerRunning: { [self] channel in self.started(port: channel.localAddress?.port ?? 0) },
            logger: logger)
        // Whoever waits for the port must not wait forever if the server stops without ever listening.
        defer { if bound.withLock({ $0 }) == nil { started(port: 0) } }
        try await app.run()
    }

    private func started(port: Int) {
        let waiters = bound.withLock { bound -> [CheckedContinuation<Int, Never>] in
            bound = port
            return startedWaiters.withLock { waiters in
                defer { waiters.removeAll() }
                return waiters
            }
        }
        logger.info("HTTP listening", metadata: ["http.host": "\(host)", "http.port": "\(port)"])
        for waiter in waiters { waiter.resume(returning: port) }
    }

    static func response(_ answer: CallbackHandler.Answer) -> Response {
        let (status, text): (HTTPResponse.Status, String)
        switch answer {
        case .published(let id): (status, text) = (.ok, "{\"eventId\":\"\(id)\"}")
        case .ignored(let reason): (status, text) = (.ok, "{\"ignored\":\"\(reason)\"}")
        case .unauthorized(let reason): (status, text) = (.unauthorized, "{\"error\":\"\(reason)\"}")
        case .badRequest(let reason): (status, text) = (.badRequest, "{\"error\":\"\(reason)\"}")
        case .unavailable(let reason): (status, text) = (.serviceUnavailable, "{\"error\":\"\(reason)\"}")
        }
        return Response(status: status, headers: [.contentType: "application/json"],
                        body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
