import Foundation
import NIOCore
import NIOPosix
import PaymentVocabulary
@testable import ProviderCore
import Synchronization
import Testing

/// How the NIO client turns a provider's host name into addresses (``NIOHTTPNameResolution``): a slow DNS answer is
/// bounded by the request's deadline, not by the connect timeout; connections opened while a lookup runs share it;
/// a name that does not resolve fails as not sent.
@Suite("NIO HTTP name resolution", .timeLimit(.minutes(2)))
struct NIOHTTPNameResolutionTests {
    static let ok = TestHTTPServer.Answer.respond(status: 200, body: Array(#"{"status":"ok"}"#.utf8))

    /// A lookup that takes `delay`, answers `127.0.0.1`, and counts its calls. It runs on a thread pool of the test's
    /// own, so sleeping in it blocks nothing else.
    final class SlowLookup: Sendable {
        let delay: Duration
        let calls = Atomic<Int>(0)
        let threadPool: NIOThreadPool

        init(delay: Duration) {
            self.delay = delay
            self.threadPool = NIOThreadPool(numberOfThreads: 4)
            threadPool.start()
        }

        var resolution: NIOHTTPNameResolution {
            NIOHTTPNameResolution(threadPool: threadPool) { [self] host, port in
                calls.add(1, ordering: .relaxed)
                Thread.sleep(forTimeInterval: Double(delay.components.seconds)
                    + Double(delay.components.attoseconds) / 1e18)
                return [try SocketAddress(ipAddress: "127.0.0.1", port: port)]
            }
        }

        func shutdown() async throws { try await threadPool.shutdownGracefully() }
    }

    static func url(_ server: TestHTTPServer, host: String = "provider.test") -> String {
        "http://\(host):\(server.port)/test"
    }

    /// A server, a client whose lookups of any name take `delay`, and a transport over that client; all shut down
    /// after `body`.
    static func withSlowLookup(
        _ delay: Duration, configuration: NIOHTTPClient.Configuration = .init(), timeouts: TransportTimeouts = .init(),
        _ body: (TestHTTPServer, SlowLookup, NIOHTTPTransport) async throws -> Void
    ) async throws {
        let lookup = SlowLookup(delay: delay)
        try await TestHTTPServer.with(answer: { Self.ok }) { server throws in
            let client = NIOHTTPClient(configuration: configuration, nameResolution: lookup.resolution)
            try await body(server, lookup, NIOHTTPTransport(client: client, timeouts: timeouts))
            await client.shutdown()
        }
        try await lookup.shutdown()
    }

    @Test func aLookupSlowerThanTheConnectTimeoutStillConnectsWithinTheRequestsDeadline() async throws {
        // The embedded DNS of podman or Docker drops a query now and then; glibc answers after its 5 s retry.
        try await Self.withSlowLookup(.milliseconds(900), configuration: .init(connectTimeout: .milliseconds(300)),
                                      timeouts: .init(request: .seconds(5))) { server, lookup, transport throws in
            #expect(try await transport.post(Self.url(server)).status == 200)
            #expect(lookup.calls.load(ordering: .relaxed) == 1)
        }
    }

    @Test func connectionsOpenedWhileALookupRunsShareIt() async throws {
        try await Self.withSlowLookup(.milliseconds(400)) { server, lookup, transport throws in
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<6 { group.addTask { try await transport.post(Self.url(server)).status } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses == Array(repeating: 200, count: 6))
            // Six connections (six requests at once), one lookup.
            #expect(server.connections == 6)
            #expect(lookup.calls.load(ordering: .relaxed) == 1)
        }
    }

    @Test func aLookupPastTheRequestsDeadlineFailsAtTheDeadlineAsNotSent() async throws {
        let timeouts = TransportTimeouts(request: .milliseconds(300))
        try await Self.withSlowLookup(.seconds(3), timeouts: timeouts) { server, _, transport throws in
            let started = ContinuousClock.now
            let error = await #expect(throws: ProviderError.self) { try await transport.post(Self.url(server)) }
            #expect(ContinuousClock.now - started < .seconds(2))
            #expect(error?.code == .connectTimeout)
            #expect(error?.message.contains("could not resolve provider.test before the request's deadline") == true)
            #expect(error?.mayHaveReachedProvider == false)
            #expect(server.connections == 0)
        }
    }

    @Test func theSystemResolverFindsLocalhost() async throws {
        let addresses = try NIOHTTPNameResolution.systemLookup(host: "localhost", port: 8080)
        #expect(!addresses.isEmpty)
        for address in addresses {
            #expect(address.port == 8080)
            #expect(["127.0.0.1", "::1"].contains(address.ipAddress ?? ""))
        }
        try await TestHTTPServer.with(answer: { Self.ok }) { server throws in
            let transport = NIOHTTPTransport()
            #expect(try await transport.post(Self.url(server, host: "localhost")).status == 200)
            try await transport.shutdown()
        }
    }

    @Test func aNameThatDoesNotResolveFailsAsNotSent() async throws {
        try await TestHTTPServer.with(answer: { Self.ok }) { server throws in
            // `.invalid` never resolves (RFC 6761).
            let transport = NIOHTTPTransport()
            let error = await #expect(throws: ProviderError.self) {
                try await transport.post(Self.url(server, host: "provider.invalid"))
            }
            #expect(error?.code == .connectionError)
            #expect(error?.message.contains("could not resolve provider.invalid") == true)
            #expect(error?.mayHaveReachedProvider == false)
            #expect(server.connections == 0)
            try await transport.shutdown()
        }
    }
}
