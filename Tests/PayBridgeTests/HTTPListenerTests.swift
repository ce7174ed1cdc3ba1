import AsyncHTTPClient
import Foundation
import NIOCore
@testable import PayBridge
import Testing

/// The two HTTP listeners (callbacks, admin) and their limits, against a real runtime over real TCP sockets. What
/// each listener serves, the answers' bodies and the settings: HTTPListenerTests+Listeners.swift.
@Suite(.timeLimit(.minutes(3))) struct HTTPListenerTests {
    /// Runs a PayBridge with the given listener limits in a fresh end-to-end world.
    /// Every test client is 127.0.0.1 unless it binds another loopback address, so the per-client connection cap
    /// defaults to the listener's here; the callback rate limit is off unless given.
    func withListeners(
        role: PayBridgeRuntime.Role = .callbacks, idleTimeout: Duration = .seconds(30), maxConnections: Int = 512,
        maxConnectionsPerClient: Int = 512, rateLimit: CallbackRateLimit? = nil,
        _ body: @escaping @Sendable (PayBridgeRuntime, _ callbacksPort: Int) async throws -> Void
    ) async throws {
        try await EndToEnd.run { world in
            var configuration = try world.configuration()
            configuration.httpIdleTimeout = idleTimeout
            configuration.httpMaxConnections = maxConnections
            configuration.httpMaxConnectionsPerClient = maxConnectionsPerClient
            if let rateLimit { configuration.callbackRateLimit = rateLimit }
            try await world.withPayBridge(configuration, role: role) { runtime in
                try await body(runtime, await runtime.httpPort())
            }
        }
    }

    static let callbackHead = "POST /callbacks/amanpay HTTP/1.1\r\nHost: paybridge\r\nContent-Type: application/json\r\n"

    // MARK: body limit

    @Test func declaredOversizedBodyIsRefusedFromTheHeadersAndTheConnectionEnds() async throws {
        try await withListeners { _, port in
            let connection = try await RawHTTPConnection.connect(port: port)
            // 100 MB announced, not one byte of it sent: the answer can only come from the headers.
            try await connection.send(Self.callbackHead + "Content-Length: \(100 * 1024 * 1024)\r\n\r\n")
            let response = try await connection.nextResponse(timeout: .seconds(5))
            #expect(response.status == 413)
            #expect(response.headers["connection"] == "close")
            let error = try JSONSerialization.jsonObject(with: Data(response.body.utf8)) as? [String: String]
            #expect(error?["error"] == "request body over 65536 bytes")
            // The server ends the connection (its side shut after the answer) instead of waiting for the body.
            _ = try await connection.untilClosed(timeout: .seconds(5))
        }
    }

    @Test func chunkedBodyGrowingPastTheLimitIs413AndTheConnectionEnds() async throws {
        try await withListeners { _, port in
            let connection = try await RawHTTPConnection.connect(port: port)
            let chunk = String(repeating: "x", count: CallbackHTTPServer.maximumCallbackBytes + 1)
            // One chunk over the limit and no last chunk: the body would go on.
            try await connection.send(Self.callbackHead + "Transfer-Encoding: chunked\r\n\r\n"
                + String(chunk.utf8.count, radix: 16) + "\r\n" + chunk + "\r\n")
            let response = try await connection.nextResponse(timeout: .seconds(5))
            #expect(response.status == 413)
            #expect(response.headers["connection"] == "close")
            #expect(try JSONSerialization.jsonObject(with: Data(response.body.utf8)) is [String: String])
            // Not drained for as long as the client cares to send: the connection ends.
            _ = try await connection.untilClosed(timeout: .seconds(5))
        }
    }

    @Test func requestsPipelinedAfterA413CannotKeepTheConnectionOpenPastTheReadDeadline() async throws {
        let timeout = Duration.milliseconds(1500)
        try await withListeners(idleTimeout: timeout) { runtime, port in
            // A client that ignores the server's close: its side stays open after PayBridge shuts its own.
            let connection = try await RawHTTPConnection.connect(port: port, allowHalfClosure: true)
            let started = ContinuousClock.now
            let oversized = String(repeating: "x", count: CallbackHTTPServer.maximumCallbackBytes + 1)
            // An oversized request sent whole, a complete request pipelined behind it, and the start of a third.
            try await connection.send(Self.callbackHead + "Content-Length: \(oversized.utf8.count)\r\n\r\n" + oversized
                + "GET /callbacks/unknown HTTP/1.1\r\nHost: paybridge\r\n\r\n"
                + Self.callbackHead + "Content-Length: 1000\r\n\r\n")
            #expect(try await connection.nextResponse(timeout: .seconds(5)).status == 413)
            // Then a slowloris: a byte every 200 ms, each well inside the timeout. A send after the server's full
            // close is reset, which is what ends the client's side.
            let trickle = Self.slowloris(connection)
            defer { trickle.cancel() }
            _ = try await connection.untilClosed(timeout: .seconds(8))
            #expect(ContinuousClock.now - started < timeout + .seconds(2), "closed at the read deadline")
            trickle.cancel()
            #expect(await trickle.value >= 3, "closed while the client was still trickling")
            #expect(runtime.metrics.exposition()
                .contains("paybridge_http_request_read_timeouts_total{listener=\"callbacks\"} 1"))
        }
    }

    // MARK: request read deadline

    @Test func idleAndPartialRequestsAreClosedAtTheTimeout() async throws {
        let timeout = Duration.milliseconds(1500)
        try await withListeners(idleTimeout: timeout) { runtime, port in
            let partials = [
                "",  // connected, silent
                "POST /callbacks/ama",  // part of a request line
                Self.callbackHead + "Content-Le",  // part of the headers
                Self.callbackHead + "Content-Length: 50\r\n\r\n{\"transactionId\":",  // part of the body
            ]
            try await withThrowingTaskGroup(of: Duration.self) { group in
                for partial in partials {
                    group.addTask {
                        let connection = try await RawHTTPConnection.connect(port: port)
                        let started = ContinuousClock.now
                        if !partial.isEmpty { try await connection.send(partial) }
                        let received = try await connection.untilClosed(timeout: .seconds(10))
                        #expect(received.isEmpty, "closed without an answer")
                        return ContinuousClock.now - started
                    }
                }
                for try await elapsed in group {
                    #expect(elapsed >= timeout - .milliseconds(200), "not before the timeout")
                    #expect(elapsed < timeout + .seconds(2), "closed at the timeout")
                }
            }
            #expect(runtime.metrics.exposition()
                .contains("paybridge_http_request_read_timeouts_total{listener=\"callbacks\"} 4"))
        }
    }

    @Test func trickledBodyIsClosedAtTheDeadlineAlthoughEveryByteArrivesInTime() async throws {
        let timeout = Duration.milliseconds(1500)
        try await withListeners(idleTimeout: timeout) { _, port in
            let connection = try await RawHTTPConnection.connect(port: port)
            let started = ContinuousClock.now
            try await connection.send(Self.callbackHead + "Content-Length: 1000\r\n\r\n")
            // Slowloris: one byte every 200 ms, always well inside the timeout, never finishing the body.
            let trickle = Self.slowloris(connection)
            defer { trickle.cancel() }
            _ = try await connection.untilClosed(timeout: .seconds(8))
            let elapsed = ContinuousClock.now - started
            #expect(elapsed < timeout + .seconds(2), "the whole request is bounded, not each gap between bytes")
            trickle.cancel()
            let sent = await trickle.value
            #expect(sent >= 3, "the connection was closed while the client was still trickling")
        }
    }

    // MARK: connection cap

    @Test func connectionsOverTheCapAreClosedOnArrivalAndTheOthersKeepWorking() async throws {
        try await withListeners(maxConnections: 3) { runtime, port in
            let request = "GET /callbacks/unknown HTTP/1.1\r\nHost: paybridge\r\n\r\n"
            var admitted: [RawHTTPConnection] = []
            for _ in 0..<3 {
                let connection = try await RawHTTPConnection.connect(port: port)
                try await connection.send(request)
                #expect(try await connection.nextResponse().status == 404)  // served: it holds a place
                admitted.append(connection)
            }
            let overCap = try await RawHTTPConnection.connect(port: port)
            #expect(try await overCap.untilClosed(timeout: .seconds(5)).isEmpty, "closed on arrival, no answer")
            for connection in admitted {
                try await connection.send(request)
                #expect(try await connection.nextResponse().status == 404, "the admitted ones keep working")
            }
            #expect(runtime.metrics.exposition()
                .contains("paybridge_http_rejected_connections_total{listener=\"callbacks\",reason=\"listener_cap\"} 1"))

            // A closed connection frees its place.
            await admitted.removeFirst().close()
            var servedAfterClose = false
            for _ in 0..<100 where !servedAfterClose {
                let connection = try await RawHTTPConnection.connect(port: port)
                try? await connection.send(request)
                servedAfterClose = (try? await connection.nextResponse(timeout: .seconds(5)))?.status == 404
                await connection.close()
                // Polling: the server gives the place back when it has processed the close.
                if !servedAfterClose { try await Task.sleep(for: .milliseconds(20)) }
            }
            #expect(servedAfterClose)
            for connection in admitted { await connection.close() }
        }
    }

    @Test func oneClientOverItsConnectionCapIsClosedOnArrivalWhileAnotherClientIsServed() async throws {
        try await withListeners(maxConnections: 10, maxConnectionsPerClient: 3) { runtime, port in
            let request = "GET /callbacks/unknown HTTP/1.1\r\nHost: paybridge\r\n\r\n"
            var admitted: [RawHTTPConnection] = []
            for _ in 0..<3 {
                let connection = try await RawHTTPConnection.connect(port: port, from: "127.0.0.1")
                try await connection.send(request)
                #expect(try await connection.nextResponse().status == 404)  // served: it holds a place
                admitted.append(connection)
            }
            let overClientCap = try await RawHTTPConnection.connect(port: port, from: "127.0.0.1")
            #expect(try await overClientCap.untilClosed(timeout: .seconds(5)).isEmpty, "closed on arrival, no answer")

            // Another address is another client: served, the listener being far from its own cap.
            let otherClient = try await RawHTTPConnection.connect(port: port, from: "127.0.0.2")
            try await otherClient.send(request)
            #expect(try await otherClient.nextResponse().status == 404)
            let listener = try #require(runtime.callbackServer?.listener)
            #expect(listener.openConnections == 4, "3 + 1 of 10")
            for connection in admitted {
                try await connection.send(request)
                #expect(try await connection.nextResponse().status == 404, "the admitted ones keep working")
            }
            let exposition = runtime.metrics.exposition()
            #expect(exposition.contains(
                "paybridge_http_rejected_connections_total{listener=\"callbacks\",reason=\"client_cap\"} 1"))
            #expect(exposition.contains(
                "paybridge_http_rejected_connections_total{listener=\"callbacks\",reason=\"listener_cap\"} 0"))
            for connection in admitted + [otherClient] { await connection.close() }
        }
    }

    // MARK: callback rate limit

    static func signedCallback(_ path: String = "/callbacks/amanpay", id: String) -> String {
        let body = #"{"transactionId":"\#(id)","paymentID":"p-\#(id)","status":"SUCCESS","amount":10.00,"currency":"BDT","paymentType":"purchase"}"#
        return "POST \(path) HTTP/1.1\r\nHost: paybridge\r\nContent-Type: application/json\r\n"
            + "Authorization: \(AmanpayTestSigning.sign(body))\r\nContent-Length: \(body.utf8.count)\r\n\r\n" + body
    }

    @Test func callbacksOverTheLimitOfTheirClientAndAccountAre429WithRetryAfterAndCounted() async throws {
        // One token every 100 s: nothing refills during the test, so each bucket serves exactly its burst.
        try await withListeners(rateLimit: CallbackRateLimit(perSecond: 0.01, burst: 3)) { runtime, port in
            let replay = Self.signedCallback(id: "replayed-1")
            let client = try await RawHTTPConnection.connect(port: port, from: "127.0.0.1")
            for _ in 0..<3 {
                try await client.send(replay)
                #expect(try await client.nextResponse().status == 200)
            }
            for _ in 0..<2 {
                try await client.send(replay)
                let refused = try await client.nextResponse()
                #expect(refused.status == 429)
                let retryAfter = try #require(refused.headers["retry-after"].flatMap { Int($0) })
                #expect((1...100).contains(retryAfter), "seconds until the bucket has a token: \(retryAfter)")
                let error = try JSONSerialization.jsonObject(with: Data(refused.body.utf8)) as? [String: String]
                #expect(error?["error"] == "too many callbacks from this client for this account")
            }
            // Another client address has a bucket of its own for the same account.
            let otherClient = try await RawHTTPConnection.connect(port: port, from: "127.0.0.2")
            try await otherClient.send(replay)
            #expect(try await otherClient.nextResponse().status == 200)
            // Paths naming no configured account share one bucket per client, apart from the account's: made-up
            // names cannot mint buckets.
            for index in 0..<4 {
                try await client.send(Self.signedCallback("/callbacks/amanpay/made-up-\(index)", id: "x"))
                #expect(try await client.nextResponse().status == (index < 3 ? 404 : 429))
            }
            let exposition = runtime.metrics.exposition()
            #expect(exposition.contains(
                "paybridge_callbacks_rate_limited_total{provider=\"amanpay\",reason=\"account\"} 2"))
            #expect(exposition.contains(
                "paybridge_callbacks_rate_limited_total{provider=\"amanpay\",reason=\"unknown_account\"} 1"))
            #expect(exposition.contains(
                "paybridge_callbacks_total{provider=\"amanpay\",account=\"default\",result=\"accepted\"} 4"),
                    "refused callbacks are never stored")
            await client.close()
            await otherClient.close()
        }
    }

    // MARK: stalled connections

    @Test func hundredsOfStalledConnectionsNeitherDelayCallbacksNorStayOpen() async throws {
        let timeout = Duration.seconds(3)
        try await withListeners(idleTimeout: timeout) { runtime, port in
            let stallers = [
                "POST /callbacks/amanpay HT",
                Self.callbackHead + "Authorization: ",
                Self.callbackHead + "Content-Length: 200\r\n\r\n{\"transactionId\":\"1",
            ]
            var stalled: [RawHTTPConnection] = []
            let openedAt = ContinuousClock.now
            for index in 0..<300 {
                let connection = try await RawHTTPConnection.connect(port: port)
                try await connection.send(stallers[index % stallers.count])
                stalled.append(connection)
            }
            let listener = try #require(runtime.callbackServer?.listener)
            // Polling the listener's own count until it has accepted all 300 (accepting is asynchronous).
            while listener.openConnections < 300, ContinuousClock.now - openedAt < timeout {
                try await Task.sleep(for: .milliseconds(10))
            }
            #expect(listener.openConnections >= 300, "all stalled connections are open at the server")

            let body = #"{"transactionId":"stall-1","paymentID":"p-stall-1","status":"SUCCESS","amount":10.00,"currency":"BDT","paymentType":"purchase"}"#
            let http = HTTPClient(eventLoopGroupProvider: .singleton)
            defer { _ = http.shutdown() }
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/callbacks/amanpay")
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.headers.add(name: "Authorization", value: AmanpayTestSigning.sign(body))
            request.body = .bytes(ByteBuffer(string: body))
            let posted = ContinuousClock.now
            let response = try await http.execute(request, timeout: .seconds(10))
            let answerBytes = try await response.body.collect(upTo: 4096)
            #expect(response.status == .ok)
            #expect(ContinuousClock.now - posted < .seconds(1), "answered promptly")
            #expect(listener.openConnections >= 300, "answered while all 300 were still stalled")
            let answer = try JSONSerialization.jsonObject(with: Data(answerBytes.readableBytesView)) as? [String: String]
            #expect(answer?["notificationId"]?.isEmpty == false)

            try await withThrowingTaskGroup(of: Void.self) { group in
                for connection in stalled {
                    group.addTask { _ = try await connection.untilClosed(timeout: timeout + .seconds(8)) }
                }
                try await group.waitForAll()
            }
            #expect(ContinuousClock.now - openedAt < timeout + .seconds(5), "all closed at about the timeout")
            #expect(ContinuousClock.now - openedAt >= timeout - .milliseconds(200))
        }
    }
}

extension HTTPListenerTests {
    /// A slowloris on `connection`: one byte every 200 ms (the client's pace, not a wait for the server), up to
    /// 1,000, until cancelled or the connection is gone; returns how many were sent.
    static func slowloris(_ connection: RawHTTPConnection) -> Task<Int, Never> {
        Task {
            var sent = 0
            while sent < 1000, (try? await Task.sleep(for: .milliseconds(200))) != nil,
                  (try? await connection.send("x")) != nil {
                sent += 1
            }
            return sent
        }
    }
}
