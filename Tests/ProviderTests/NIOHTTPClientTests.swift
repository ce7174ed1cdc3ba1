import Dispatch
import Foundation
import Logging
import NIOCore
import NIOPosix
import PaymentVocabulary
@testable import ProviderCore
import Synchronization
import Testing

/// What the NIO transport adds to the transports' common contract (`TransportTests`): one client shared by
/// several transports, the idle timeout, connections the server closed while idle, the response-head bound, and its
/// debug lines.
@Suite("NIO HTTP client", .timeLimit(.minutes(2)))
struct NIOHTTPClientTests {
    static let ok = TestHTTPServer.Answer.respond(status: 200, body: Array(#"{"status":"ok"}"#.utf8))

    @Test func transportsShareTheClientsConnectionsAndKeepTheirOwnBounds() async throws {
        try await TestHTTPServer.with(answer: { Self.ok }) { server throws in
            let client = NIOHTTPClient()
            let roomy = NIOHTTPTransport(client: client)
            let tight = NIOHTTPTransport(client: client, timeouts: .init(maxResponseBytes: 4))
            #expect(try await roomy.post(server.url).status == 200)
            let error = await #expect(throws: ProviderError.self) { try await tight.post(server.url) }
            #expect(error?.code == .responseTooLarge)
            // The second transport took the first one's idle connection.
            #expect(server.connections == 1)
            // A transport over a shared client leaves it open.
            try await roomy.shutdown()
            #expect(try await roomy.post(server.url).status == 200)
            await client.shutdown()
            let afterShutdown = await #expect(throws: ProviderError.self) { try await roomy.post(server.url) }
            #expect(afterShutdown?.code == .connectionError)
            #expect(afterShutdown?.mayHaveReachedProvider == false)
        }
    }

    @Test func anIdleConnectionIsClosedAfterTheIdleTimeoutAndNotReused() async throws {
        try await TestHTTPServer.with(answer: { Self.ok }) { server throws in
            let client = NIOHTTPClient(configuration: .init(idleTimeout: .milliseconds(300)))
            let transport = NIOHTTPTransport(client: client)
            let answered = ContinuousClock.now
            #expect(try await transport.post(server.url).status == 200)
            // Closed by the client (the server keeps idle connections open), once, not before the timeout.
            #expect(try await server.wait(until: { $0.closedConnections == 1 }))
            #expect(ContinuousClock.now - answered >= .milliseconds(250))
            #expect(try await transport.post(server.url).status == 200)
            #expect(server.connections == 2)
            await client.shutdown()
        }
    }

    @Test func aConnectionUsedWithinTheIdleTimeoutStaysOpen() async throws {
        try await TestHTTPServer.with(answer: { Self.ok }) { server throws in
            let client = NIOHTTPClient(configuration: .init(idleTimeout: .milliseconds(400)))
            let transport = NIOHTTPTransport(client: client)
            for _ in 0..<6 {
                #expect(try await transport.post(server.url).status == 200)
                try await Task.sleep(for: .milliseconds(150))
            }
            // Used every 150 ms for 900 ms: one connection, never closed idle.
            #expect(server.connections == 1)
            #expect(server.closedConnections == 0)
            await client.shutdown()
        }
    }

    @Test func aRequestAfterTheServerClosedTheIdleConnectionGoesOutOnANewConnection() async throws {
        try await TestHTTPServer.with(answer: { Self.ok }) { server throws in
            try await TransportKind.nio.with { transport throws in
                #expect(try await transport.post(server.url).status == 200)
                try await server.closeConnections()
                // Give the client's event loop time to read the close (the next test covers the case it has not).
                try await Task.sleep(for: .milliseconds(100))
                #expect(try await transport.post(server.url).status == 200)
            }
            #expect(server.connections == 2)
            #expect(server.requests == 2)
        }
    }

    /// The race the transport can recover from: the server reset the idle connection, and the client's event loop
    /// has not read that yet when it writes the next request on it. The write call fails, nothing was written, and
    /// the request goes out on a new connection. The event loop is held while the reset arrives, and the request is
    /// dispatched on it, so the write comes first.
    @Test func aRequestWhoseWriteFailsOnAReusedConnectionGoesOutOnANewOne() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        try await TestHTTPServer.with(answer: { Self.ok }) { server throws in
            let client = NIOHTTPClient(eventLoopGroup: group)
            let transport = NIOHTTPTransport(client: client)
            #expect(try await transport.post(server.url).status == 200)
            let (request, pool) = try transport.prepare(
                url: server.url, headers: [], body: "{}", provider: .amanpay, operation: "balance", logger: quietLogger)
            let loop = group.next()
            let reset = DispatchSemaphore(value: 0)
            async let response = withUnsafeThrowingContinuation { continuation in
                loop.execute {
                    reset.wait()
                    // Loopback delivers the reset at once; the loop only reads it after this task.
                    usleep(50_000)
                    request.install(continuation)
                    pool.dispatch(request)
                }
            }
            try await server.closeConnections(reset: true)
            reset.signal()
            #expect(try await response.status == 200)
            #expect(server.connections == 2)
            // The first request and the second once: the failed write sent nothing.
            #expect(server.requests == 2)
            await client.shutdown()
        }
        try await group.shutdownGracefully()
    }

    @Test func aReusedConnectionThatClosesAfterTheRequestWasWrittenIsNotRetried() async throws {
        let answered = Atomic<Int>(0)
        let answer: @Sendable () -> TestHTTPServer.Answer = {
            answered.add(1, ordering: .relaxed).oldValue == 0 ? Self.ok : .close
        }
        try await TestHTTPServer.with(answer: answer) { server throws in
            try await TransportKind.nio.with { transport throws in
                #expect(try await transport.post(server.url).status == 200)
                let error = await #expect(throws: ProviderError.self) { try await transport.post(server.url) }
                #expect(error?.code == .connectionError)
                #expect(error?.mayHaveReachedProvider == true)
            }
            #expect(server.requests == 2)
        }
    }

    @Test func aResponseHeadOverTheBoundIsATransientErrorThatMayHaveReachedTheProvider() async throws {
        let header = String(repeating: "h", count: 16 * 1024)
        try await TestHTTPServer.with(answer: { .respond(status: 200, headers: [("X-Large", header)]) }) { server throws in
            let tight = NIOHTTPClient(configuration: .init(maxResponseHeadBytes: 8 * 1024))
            let error = await #expect(throws: ProviderError.self) {
                try await NIOHTTPTransport(client: tight).post(server.url)
            }
            #expect(error?.code == .responseTooLarge)
            #expect(error?.errorClass == .transient)
            #expect(error?.mayHaveReachedProvider == true)
            #expect(error?.message.contains("header lines exceeded the transport's limit of 8192 bytes") == true)
            await tight.shutdown()
            // The default bound (80 KiB) lets it through.
            try await TransportKind.nio.with { transport throws in #expect(try await transport.post(server.url).status == 200) }
        }
        let over = String(repeating: "h", count: 96 * 1024)
        try await TestHTTPServer.with(answer: { .respond(status: 200, headers: [("X-Large", over)]) }) { server throws in
            try await TransportKind.nio.with { transport throws in
                let error = await #expect(throws: ProviderError.self) { try await transport.post(server.url) }
                #expect(error?.code == .responseTooLarge)
                #expect(error?.mayHaveReachedProvider == true)
            }
        }
    }

    @Test func connectionsAreLoggedAtDebugWithTheirHostAndPortOnly() async throws {
        let box = LogBox()
        let port = try closedPort()
        try await TestHTTPServer.with(answer: { Self.ok }) { server throws in
            let client = NIOHTTPClient(configuration: .init(idleTimeout: .milliseconds(200)))
            let transport = NIOHTTPTransport(client: client)
            _ = try await transport.post(
                url: server.url + "?merchant=secret-query", headers: [("Authorization", "secret-header")],
                body: #"{"secret":"body"}"#, provider: .amanpay, operation: "balance", logger: box.logger)
            #expect(try await server.wait(until: { $0.closedConnections == 1 }))
            _ = try? await transport.post(
                url: "http://127.0.0.1:\(port)/test", headers: [], body: "{}", provider: .amanpay, operation: "balance",
                logger: box.logger)
            await client.shutdown()
            let lines = box.records.withLock { $0 }
            let peer = "127.0.0.1:\(server.port)"
            #expect(lines.contains { $0.hasPrefix("provider connection opened") && $0.contains(peer) })
            #expect(lines.contains {
                $0.hasPrefix("provider connection closed") && $0.contains(peer) && $0.contains("idle timeout")
            })
            #expect(lines.contains { $0.hasPrefix("provider connection failed") && $0.contains("127.0.0.1:\(port)") })
            #expect(!box.text.contains("secret"))
            #expect(!box.text.contains("/test"))
        }
        // Nothing at info and above.
        let quiet = LogBox()
        var logger = quiet.logger
        logger.logLevel = .info
        try await TestHTTPServer.with(answer: { Self.ok }) { server throws in
            try await TransportKind.nio.with { transport throws in
                _ = try await transport.post(url: server.url, headers: [], body: "{}", provider: .amanpay,
                                             operation: "balance", logger: logger)
            }
        }
        #expect(quiet.text.isEmpty)
    }
}
