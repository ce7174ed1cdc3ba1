import BrokerTestKit
import Logging
import NIOSSL
import PayBridgeTracing
import PaymentVocabulary
import ProviderCore
import ProviderSandbox
import Testing

/// The provider transport's contract, on both transports (``TransportKind``): response bounds, the request deadline,
/// cancellation, connect failures and their A4 mapping, Retry-After, trace headers, TLS, keep-alive and the
/// per-host connection bound.
@Suite("Provider HTTP transports", .timeLimit(.minutes(2)))
struct TransportTests {
    /// An (unsigned) Amanpay balance request: the sandbox records it and applies its faults before it answers
    /// with a JSON error (401), a body of well over 16 bytes.
    let balanceBody = #"{"merchant_id":1758378}"#

    @Test(arguments: TransportKind.allCases)
    func aResponseOverTheSizeLimitIsATransientErrorThatMayHaveReachedTheProvider(_ kind: TransportKind) async throws {
        try await withSandbox { sandbox in
            try await kind.with(timeouts: .init(maxResponseBytes: 16)) { transport in
                let error = await #expect(throws: ProviderError.self) {
                    try await transport.post(sandbox.baseURL + "/merchants/balance")
                }
                #expect(error?.code == .responseTooLarge)
                #expect(error?.errorClass == .transient)
                #expect(error?.mayHaveReachedProvider == true)
            }
            // The same request with the default limit gets its whole response.
            let response = try await kind.with { try await $0.post(sandbox.baseURL + "/merchants/balance") }
            #expect(response.body.count > 16)
            #expect(response.status == 401)
            #expect(response.header("content-type") == "application/json")
        }
    }

    @Test(arguments: TransportKind.allCases)
    func aChunkedBodyOverTheLimitIsRefusedToo(_ kind: TransportKind) async throws {
        let big = [UInt8](repeating: UInt8(ascii: "x"), count: 8 * 1024)
        try await TestHTTPServer.with(answer: { .respond(status: 200, body: big, chunked: true) }) { server in
            try await kind.with(timeouts: .init(maxResponseBytes: 4 * 1024)) { transport in
                let error = await #expect(throws: ProviderError.self) { try await transport.post(server.url) }
                #expect(error?.code == .responseTooLarge)
                #expect(error?.mayHaveReachedProvider == true)
            }
            let whole = try await kind.with { try await $0.post(server.url) }
            #expect(whole.body == big)
        }
    }

    @Test(arguments: TransportKind.allCases)
    func cancellingTheCallingTaskCancelsTheRequestWithoutWaitingForTheResponse(_ kind: TransportKind) async throws {
        try await withSandbox { sandbox in
            sandbox.addFault(SandboxFault(provider: "amanpay", latencyMs: 30_000))
            try await kind.with(timeouts: .init(request: .seconds(60))) { transport in
                let started = ContinuousClock.now
                let call = Task { try await transport.post(sandbox.baseURL + "/merchants/balance") }
                // Cancel once the request is at the provider (the sandbox records it before its 30 s delay). There
                // is no event to await for that, so this polls the sandbox's record, bounded.
                while sandbox.receivedRequests().isEmpty, ContinuousClock.now - started < .seconds(10) {
                    try await Task.sleep(for: .milliseconds(5))
                }
                #expect(sandbox.receivedRequests().count == 1)
                call.cancel()
                await #expect(throws: CancellationError.self) { try await call.value }
                // Far less than the sandbox's 30 s: the call did not wait for the response.
                #expect(ContinuousClock.now - started < .seconds(10))
            }
        }
    }

    @Test(arguments: TransportKind.allCases)
    func noAnswerWithinTheRequestTimeoutIsATimeoutThatMayHaveReachedTheProvider(_ kind: TransportKind) async throws {
        try await withSandbox { sandbox in
            sandbox.addFault(SandboxFault(provider: "amanpay", latencyMs: 5_000))
            try await kind.with(timeouts: .init(request: .milliseconds(300))) { transport in
                let started = ContinuousClock.now
                let error = await #expect(throws: ProviderError.self) {
                    try await transport.post(sandbox.baseURL + "/merchants/balance")
                }
                #expect(error?.code == .timeout)
                #expect(error?.errorClass == .transient)
                #expect(error?.mayHaveReachedProvider == true)
                #expect(ContinuousClock.now - started < .seconds(4))
            }
        }
    }

    @Test(arguments: TransportKind.allCases)
    func aRefusedConnectionNeverReachedTheProvider(_ kind: TransportKind) async throws {
        let port = try closedPort()
        try await kind.with(timeouts: .init(connect: .seconds(1))) { transport in
            let error = await #expect(throws: ProviderError.self) {
                try await transport.post("http://127.0.0.1:\(port)/merchants/balance")
            }
            #expect(error?.errorClass == .transient)
            switch kind {
            case .nio:
                #expect(error?.code == .connectionRefused)
                #expect(error?.mayHaveReachedProvider == false)
            case .asyncHTTPClient:
                // AsyncHTTPClient retries the connect until its connect timeout and then throws the last attempt's
                // plain IOError (ECONNREFUSED), which the mapping does not recognise: the safe, imprecise answer.
                #expect(error?.code == .connectionError)
                #expect(error?.mayHaveReachedProvider == true)
            }
        }
    }

    @Test(arguments: TransportKind.allCases)
    func aConnectionThatIsNotAcceptedInTimeIsAConnectTimeout(_ kind: TransportKind) async throws {
        let listener = try FullListener()
        defer { listener.close() }
        try await kind.with(timeouts: .init(connect: .milliseconds(300), request: .seconds(10))) { transport in
            let started = ContinuousClock.now
            let error = await #expect(throws: ProviderError.self) {
                try await transport.post("http://127.0.0.1:\(listener.port)/merchants/balance")
            }
            #expect(error?.code == .connectTimeout)
            #expect(error?.mayHaveReachedProvider == false)
            #expect(ContinuousClock.now - started < .seconds(5))
        }
    }

    @Test(arguments: TransportKind.allCases)
    func aConnectionClosedWithoutAnAnswerIsAConnectionErrorThatMayHaveReachedTheProvider(_ kind: TransportKind)
        async throws
    {
        try await TestHTTPServer.with(answer: { .close }) { server in
            try await kind.with { transport in
                let error = await #expect(throws: ProviderError.self) { try await transport.post(server.url) }
                #expect(error?.code == .connectionError)
                #expect(error?.errorClass == .transient)
                #expect(error?.mayHaveReachedProvider == true)
            }
        }
    }

    @Test(arguments: TransportKind.allCases)
    func aServerErrorIsAResponseWithItsRetryAfter(_ kind: TransportKind) async throws {
        try await withSandbox { sandbox in
            sandbox.addFault(SandboxFault(provider: "amanpay", times: 1, httpStatus: 503, retryAfterSeconds: 7))
            try await kind.with { transport in
                let limited = try await transport.post(sandbox.baseURL + "/merchants/balance")
                #expect(limited.status == 503)
                #expect(limited.retryAfter == .seconds(7))
                let next = try await transport.post(sandbox.baseURL + "/merchants/balance")
                #expect(next.status == 401)
                #expect(next.retryAfter == nil)
            }
        }
    }

    @Test(arguments: TransportKind.allCases)
    func theRequestCarriesItsHeadersAndTheClientSpansTraceContext(_ kind: TransportKind) async throws {
        try await withSandbox { sandbox in
            let recorder = InMemorySpanRecorder()
            try await kind.with(tracer: PayBridgeTracer(recorder: recorder)) { transport in
                _ = try await transport.post(
                    url: sandbox.baseURL + "/merchants/balance", headers: [("Authorization", "Bearer x")],
                    body: balanceBody, provider: .amanpay, operation: "balance", logger: quietLogger)
            }
            let received = try #require(sandbox.receivedRequests().first)
            #expect(received.body == balanceBody)
            let span = try #require(recorder.spans.first { $0.operationName == "POST amanpay balance" })
            #expect(span.kind == .client)
            #expect(received.traceparent == span.context.traceparent)
        }
    }

    @Test(arguments: TransportKind.allCases)
    func httpsVerifiesTheProvidersCertificate(_ kind: TransportKind) async throws {
        let certificates = try await TestCertificates.make()
        try await withSandbox { sandbox in
            let port = try #require(Int(sandbox.baseURL.split(separator: ":").last ?? ""))
            let relay = try await TLSRelay.start(certificateChainPath: certificates.localhostCertificate,
                                                 privateKeyPath: certificates.localhostKey, brokerPort: port)
            defer { Task { try? await relay.stop() } }
            var trusted = TLSConfiguration.makeClientConfiguration()
            trusted.trustRoots = .file(certificates.ca)
            try await kind.with(tls: trusted) { transport in
                for host in ["localhost", "127.0.0.1"] {
                    let response = try await transport.post("https://\(host):\(relay.port)/merchants/balance")
                    #expect(response.status == 401, "\(host)")
                }
            }
            var untrusted = TLSConfiguration.makeClientConfiguration()
            untrusted.trustRoots = .file(certificates.otherCA)
            try await kind.with(tls: untrusted) { transport in
                let error = await #expect(throws: ProviderError.self) {
                    try await transport.post("https://localhost:\(relay.port)/merchants/balance")
                }
                #expect(error?.code == .connectionError)
                #expect(error?.errorClass == .transient)
            }
            // The sandbox only saw the two requests over verified connections.
            #expect(sandbox.receivedRequests().count == 2)
        }
    }

    @Test(arguments: TransportKind.allCases)
    func aKeepAliveConnectionServesTheNextRequests(_ kind: TransportKind) async throws {
        try await TestHTTPServer.with(answer: { .respond(status: 200, body: Array("{}".utf8)) }) { server in
            try await kind.with { transport in
                for _ in 0..<10 {
                    let status = try await transport.post(server.url).status
                    #expect(status == 200)
                }
            }
            // The NIO client hands the connection back before it resumes the caller, so the next request finds it.
            // AsyncHTTPClient resumes first and now and then opens a second connection for the next request.
            #expect(kind == .nio ? server.connections == 1 : server.connections <= 3)
        }
    }

    @Test(arguments: TransportKind.allCases)
    func aServerThatClosesAfterEachAnswerGetsANewConnectionPerRequest(_ kind: TransportKind) async throws {
        try await TestHTTPServer.with(answer: { .respond(status: 200, headers: [("Connection", "close")]) }) { server in
            try await kind.with { transport in
                for _ in 0..<3 {
                    let status = try await transport.post(server.url).status
                    #expect(status == 200)
                }
            }
            #expect(server.connections == 3)
        }
    }

    @Test(arguments: TransportKind.allCases)
    func requestsWaitForOneOfAtMostMaxConnectionsPerHost(_ kind: TransportKind) async throws {
        try await withSandbox { sandbox in
            sandbox.addFault(SandboxFault(provider: "amanpay", latencyMs: 100))
            let started = ContinuousClock.now
            let statuses = try await kind.with(timeouts: .init(maxConnectionsPerHost: 2)) { transport in
                try await withThrowingTaskGroup(of: Int.self) { group in
                    for _ in 0..<10 {
                        group.addTask { try await transport.post(sandbox.baseURL + "/merchants/balance").status }
                    }
                    return try await group.reduce(into: [Int]()) { $0.append($1) }
                }
            }
            #expect(statuses == Array(repeating: 401, count: 10))
            // Two at a time, 100 ms each: at least five rounds.
            #expect(ContinuousClock.now - started >= .milliseconds(500))
        }
    }
}
