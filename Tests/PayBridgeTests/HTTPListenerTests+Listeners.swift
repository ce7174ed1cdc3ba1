import AsyncHTTPClient
import Foundation
import Hummingbird
import NIOCore
@testable import PayBridge
import PayBridgeContract
import StrictJSON
import Testing

/// HTTPListenerTests, continued: what each listener serves (admin vs. callbacks port, per role), the callback
/// answers' JSON bodies, and the listener settings read from the environment. The limits are in
/// HTTPListenerTests.swift.
extension HTTPListenerTests {
    // MARK: the two listeners

    @Test func healthReadinessAndMetricsAreOnTheAdminPortAndNotOnTheCallbacksPort() async throws {
        try await withListeners(role: .all) { runtime, port in
            let adminPort = await runtime.adminPort()
            #expect(adminPort > 0 && port > 0 && adminPort != port)
            let http = HTTPClient(eventLoopGroupProvider: .singleton)
            defer { _ = http.shutdown() }
            func get(_ port: Int, _ path: String, post: Bool = false) async throws -> (status: Int, body: String) {
                var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
                request.method = post ? .POST : .GET
                let response = try await http.execute(request, timeout: .seconds(10))
                let body = try await response.body.collect(upTo: 1024 * 1024)
                return (Int(response.status.code), String(buffer: body))
            }
            let health = try await get(adminPort, "/healthz")
            #expect(health.status == 200 && health.body == "ok\n")
            let readiness = try await get(adminPort, "/readyz")
            #expect(readiness.status == 200 && readiness.body == "ready\n")
            let metrics = try await get(adminPort, "/metrics")
            #expect(metrics.status == 200)
            #expect(metrics.body.contains("# TYPE paybridge_"))
            for path in ["/healthz", "/readyz", "/metrics", "/", "/callbacks/unknown"] {
                #expect(try await get(port, path).status == 404, "\(path) on the callbacks port")
            }
            #expect(try await get(port, "/callbacks/unknown", post: true).status == 404)
            #expect(try await get(adminPort, "/callbacks/amanpay", post: true).status == 404,
                    "no callbacks on the admin port")
        }
    }

    @Test func workerRoleOpensTheAdminListenerOnly() async throws {
        try await withListeners(role: .worker) { runtime, port in
            #expect(port == 0)
            #expect(runtime.callbackServer == nil)
            let adminPort = await runtime.adminPort()
            let connection = try await RawHTTPConnection.connect(port: adminPort)
            try await connection.send("GET /healthz HTTP/1.1\r\nHost: paybridge\r\n\r\n")
            let response = try await connection.nextResponse()
            #expect(response.status == 200 && response.body == "ok\n")
            await connection.close()
        }
    }

    // MARK: response bodies

    @Test(arguments: [
        CallbackHandler.Answer.badRequest(#"he said "no" \ then"# + "\nleft\t\u{1}"),
        .unauthorized(#"\"#), .unavailable("\"}, \"injected\": true, {\""), .accepted(notificationId: "line\r\nbreak"),
    ])
    func callbackAnswersAreValidJSONWhateverTheReasonContains(_ answer: CallbackHandler.Answer) async throws {
        let reason: String
        switch answer {
        case .badRequest(let text), .unauthorized(let text), .unavailable(let text), .unknownAccount(let text):
            reason = text
        case .accepted(let id): reason = id
        }
        // A real listener answering the way the callbacks route does, read over a socket.
        let listener = HTTPListener(
            name: "test", host: "127.0.0.1", port: 0,
            limits: .init(maximumConnections: 8, requestReadTimeout: .seconds(10), maximumRequestBodyBytes: 0),
            metrics: PayBridgeMetrics(), logger: e2eLogger)
        let server = Task {
            let router = Router()
            router.get("/answer") { _, _ in CallbackHTTPServer.response(answer) }
            try await listener.run(router: router)
        }
        defer { server.cancel() }
        let connection = try await RawHTTPConnection.connect(port: await listener.boundPort())
        try await connection.send("GET /answer HTTP/1.1\r\nHost: paybridge\r\n\r\n")
        let response = try await connection.nextResponse()
        await connection.close()
        #expect(response.headers["content-type"] == "application/json")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(response.body.utf8)) as? [String: Any])
        #expect(object.count == 1, "one field, nothing injected: \(response.body)")
        let key = if case .accepted = answer { "notificationId" } else { "error" }
        #expect(object[key] as? String == reason)
        // The project's own strict parser agrees.
        #expect(try JSONValue.parse(Array(response.body.utf8))[key]?.stringValue == reason)
    }

    // MARK: configuration

    @Test func listenerSettingsAreReadFromTheEnvironmentAndRangeChecked() throws {
        let provider = ["AMANPAY_BASE_URL": "http://127.0.0.1:1", "AMANPAY_MERCHANT_ID": "1", "AMANPAY_SECRET_KEY": "s"]
        let defaults = try PayBridgeConfiguration.fromEnvironment(provider)
        #expect(defaults.httpHost == "127.0.0.1" && defaults.httpPort == 8080)
        #expect(defaults.adminHost == "127.0.0.1" && defaults.adminPort == 9090)
        #expect(defaults.httpIdleTimeout == .seconds(30))
        #expect(defaults.httpMaxConnections == 512)
        #expect(defaults.httpMaxConnectionsPerClient == 64)
        #expect(defaults.callbackRateLimit == CallbackRateLimit(perSecond: 20, burst: 40))

        let set = try PayBridgeConfiguration.fromEnvironment(provider.merging([
            "PAYBRIDGE_ADMIN_HOST": "0.0.0.0", "PAYBRIDGE_ADMIN_PORT": "9100",
            "PAYBRIDGE_HTTP_IDLE_TIMEOUT_SECONDS": "5", "PAYBRIDGE_HTTP_MAX_CONNECTIONS": "64",
            "PAYBRIDGE_HTTP_MAX_CONNECTIONS_PER_CLIENT": "8", "PAYBRIDGE_CALLBACK_RATE_LIMIT": "5",
        ]) { $1 })
        #expect(set.adminHost == "0.0.0.0" && set.adminPort == 9100)
        #expect(set.httpIdleTimeout == .seconds(5) && set.httpMaxConnections == 64)
        #expect(set.httpMaxConnectionsPerClient == 8)
        #expect(set.callbackRateLimit == CallbackRateLimit(perSecond: 5, burst: 10), "burst: twice the limit")
        let burst = try PayBridgeConfiguration.fromEnvironment(provider.merging([
            "PAYBRIDGE_CALLBACK_RATE_LIMIT": "0", "PAYBRIDGE_CALLBACK_RATE_BURST": "7",
        ]) { $1 })
        #expect(burst.callbackRateLimit == CallbackRateLimit(perSecond: 0, burst: 7) && !burst.callbackRateLimit.isOn)

        for (name, value) in [
            ("PAYBRIDGE_ADMIN_PORT", "65536"), ("PAYBRIDGE_ADMIN_PORT", "8080"),
            ("PAYBRIDGE_HTTP_IDLE_TIMEOUT_SECONDS", "0"), ("PAYBRIDGE_HTTP_IDLE_TIMEOUT_SECONDS", "1.5"),
            ("PAYBRIDGE_HTTP_MAX_CONNECTIONS", "0"), ("PAYBRIDGE_HTTP_MAX_CONNECTIONS", "many"),
            ("PAYBRIDGE_HTTP_MAX_CONNECTIONS_PER_CLIENT", "0"), ("PAYBRIDGE_CALLBACK_RATE_LIMIT", "-1"),
            ("PAYBRIDGE_CALLBACK_RATE_LIMIT", "2.5"), ("PAYBRIDGE_CALLBACK_RATE_BURST", "0"),
        ] {
            do {
                _ = try PayBridgeConfiguration.fromEnvironment(provider.merging([name: value]) { $1 })
                Issue.record("\(name)=\(value) was accepted")
            } catch {
                #expect(error.setting == name, "\(name)=\(value): \(error)")
            }
        }
    }
}
