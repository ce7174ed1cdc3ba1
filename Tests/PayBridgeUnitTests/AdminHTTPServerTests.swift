import Hummingbird
import HummingbirdTesting
import NIOCore
@testable import PayBridge
import PayBridgeTestKit
import Testing

/// The admin router (`/healthz`, `/readyz`, `/metrics`) through Hummingbird's test client: no socket, no broker.
@Suite struct AdminHTTPServerTests {
    func withAdminRouter(
        readiness: Readiness = Readiness(), metrics: PayBridgeMetrics = PayBridgeMetrics(),
        _ test: @Sendable (any TestClientProtocol) async throws -> Void
    ) async throws {
        let app = Application(router: AdminHTTPServer.makeRouter(readiness: readiness, metrics: metrics))
        try await app.test(.router, test)
    }

    @Test func healthzAnswersOKWhateverTheReadiness() async throws {
        let readiness = Readiness()
        readiness.setBrokerConnected(false)
        try await withAdminRouter(readiness: readiness) { client in
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == "ok\n")
            }
        }
    }

    @Test func readyzAnswers200WhenReady() async throws {
        try await withAdminRouter { client in
            try await client.execute(uri: "/readyz", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == "ready\n")
            }
        }
    }

    @Test func readyzAnswers503WithEveryReasonWhenNotReady() async throws {
        let readiness = Readiness()
        readiness.setBrokerConnected(false)
        readiness.setOutcomesBlocked(reason: "unroutable")
        readiness.pause(provider: "firstpay", reason: "circuit open")
        readiness.pause(provider: "amanpay", reason: "configuration: INVALID_API_KEY")
        try await withAdminRouter(readiness: readiness) { client in
            try await client.execute(uri: "/readyz", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(response.headers[.contentType] == "text/plain")
                #expect(String(buffer: response.body) == """
                    broker: disconnected
                    outcomes: cannot be published (unroutable)
                    amanpay: paused (configuration: INVALID_API_KEY)
                    firstpay: paused (circuit open)

                    """)
            }
        }
        readiness.setBrokerConnected(true)
        readiness.setOutcomesBlocked(reason: nil)
        readiness.resume(provider: "amanpay")
        readiness.resume(provider: "firstpay")
        try await withAdminRouter(readiness: readiness) { client in
            try await client.execute(uri: "/readyz", method: .get) { response in
                #expect(response.status == .ok)
            }
        }
    }

    @Test func metricsAnswersThePrometheusExposition() async throws {
        let metrics = PayBridgeMetrics()
        metrics.callback(provider: "amanpay", account: .default, result: "published")
        try await withAdminRouter(metrics: metrics) { client in
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/plain; version=0.0.4")
                let text = String(buffer: response.body)
                #expect(text == metrics.exposition())
                #expect(text.contains(#"paybridge_callbacks_total{provider="amanpay",account="default",result="published"} 1"#))
            }
        }
    }

    @Test func anythingElseIsNotFound() async throws {
        try await withAdminRouter { client in
            try await client.execute(uri: "/callbacks/amanpay", method: .post) { response in
                #expect(response.status == .notFound)
            }
        }
    }
}
