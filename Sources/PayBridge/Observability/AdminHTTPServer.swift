import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// The operations listener as a `Service` (`PAYBRIDGE_ADMIN_HOST`/`PAYBRIDGE_ADMIN_PORT`): `/healthz`, `/readyz` and
/// `/metrics`, apart from the port that receives provider callbacks. Every role runs it.
final class AdminHTTPServer: Service, Sendable {
    /// The admin endpoints take no request body.
    static let maximumRequestBodyBytes = 0

    let listener: HTTPListener
    let readiness: Readiness
    let metrics: PayBridgeMetrics

    init(host: String, port: Int, limits: HTTPListenerLimits, readiness: Readiness, metrics: PayBridgeMetrics,
         logger: Logger) {
        var limits = limits
        limits.maximumRequestBodyBytes = Self.maximumRequestBodyBytes
        listener = HTTPListener(name: "admin", host: host, port: port, limits: limits, metrics: metrics, logger: logger)
        self.readiness = readiness
        self.metrics = metrics
    }

    /// The bound port once the server runs (useful with port 0); 0 when it stopped without listening.
    func boundPort() async -> Int {
        await listener.boundPort()
    }

    func run() async throws {
        try await listener.run(router: Self.makeRouter(readiness: readiness, metrics: metrics))
    }

    /// `/healthz` (always `ok`), `/readyz` (200 `ready`, or 503 with one reason a line; with several broker nodes
    /// configured, then the node each connection is on) and `/metrics` (Prometheus text). What the server runs, and
    /// what the tests drive with Hummingbird's test client.
    static func makeRouter(readiness: Readiness, metrics: PayBridgeMetrics) -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/healthz") { _, _ in "ok\n" }
        router.get("/readyz") { [readiness] _, _ -> Response in
            let (ready, text) = readiness.report()
            return Response(status: ready ? .ok : .serviceUnavailable, headers: [.contentType: "text/plain"],
                            body: .init(byteBuffer: ByteBuffer(string: text)))
        }
        router.get("/metrics") { [metrics] _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                     body: .init(byteBuffer: ByteBuffer(string: metrics.exposition())))
        }
        return router
    }
}
