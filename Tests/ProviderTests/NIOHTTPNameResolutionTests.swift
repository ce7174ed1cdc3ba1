import Foundation
import Logging
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

    /// A lookup that takes `delay` (the first call `firstDelay`, and fails then when `firstFails`), answers
    /// `127.0.0.1`, and counts its calls. It runs on a thread pool of the test's own, so sleeping in it blocks
    /// nothing else.
    final class SlowLookup: Sendable {
        let delay: Duration
        let firstDelay: Duration
        let firstFails: Bool
        let calls = Atomic<Int>(0)
        let threadPool: NIOThreadPool

        init(delay: Duration, firstDelay: Duration? = nil, firstFails: Bool = false) {
            self.delay = delay
            self.firstDelay = firstDelay ?? delay
            self.firstFails = firstFails
            self.threadPool = NIOThreadPool(numberOfThreads: 4)
            threadPool.start()
        }

        var resolution: NIOHTTPNameResolution {
            NIOHTTPNameResolution(threadPool: threadPool) { [self] host, port in
                let first = calls.add(1, ordering: .relaxed).newValue == 1
                let wait = first ? firstDelay : delay
                Thread.sleep(forTimeInterval: Double(wait.components.seconds)
                    + Double(wait.components.attoseconds) / 1e18)
                if first && firstFails {
                    throw NIOHTTPNameResolution.LookupFailed(host: host, reason: "Name or service not known")
                }
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
        _ delay: Duration, first: (delay: Duration, fails: Bool)? = nil,
        configuration: NIOHTTPClient.Configuration = .init(), timeouts: TransportTimeouts = .init(),
        _ body: (TestHTTPServer, SlowLookup, NIOHTTPTransport) async throws -> Void
    ) async throws {
        let lookup = SlowLookup(delay: delay, firstDelay: first?.delay, firstFails: first?.fails ?? false)
        try await TestHTTPServer.with(answer: { Self.ok }) { server throws in
            let client = NIOHTTPClient(configuration: configuration, nameResolution: lookup.resolution)
            try await body(server, lookup, NIOHTTPTransport(client: client, timeouts: timeouts))
            await client.shutdown()
        }
        try await lookup.shutdown()
    }

    @Test func aLookupSlowerThanTheConnectTimeoutStillConnectsWithinTheRequestsDeadline() async throws {
        // The embedded DNS of podman or Docker drops a query now and then; glibc answers after its 5 s retry.
        let configuration = NIOHTTPClient.Configuration(connectTimeout: .milliseconds(300), lookupHedgeDelay: .seconds(5))
        try await Self.withSlowLookup(.milliseconds(900), configuration: configuration,
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

    @Test func aLookupLeftUnansweredGetsAnotherBesideItAndTheFirstAnswerServes() async throws {
        // podman's DNS server drops queries while a container joins the network: glibc would wait 5 s and more.
        let configuration = NIOHTTPClient.Configuration(lookupHedgeDelay: .milliseconds(200))
        try await Self.withSlowLookup(.zero, first: (.seconds(4), false), configuration: configuration,
                                      timeouts: .init(request: .seconds(10))) { server, lookup, transport throws in
            let started = ContinuousClock.now
            #expect(try await transport.post(Self.url(server)).status == 200)
            #expect(ContinuousClock.now - started < .seconds(3))
            #expect(lookup.calls.load(ordering: .relaxed) == 2)
        }
    }

    @Test func aLookupThatFailsWhileAnotherRunsLeavesTheAnswerToIt() async throws {
        // The first lookup ends as "not known" after 600 ms; the one started beside it at 400 ms answers at 1.4 s
        // (more start every 400 ms meanwhile, at most three running at once).
        let configuration = NIOHTTPClient.Configuration(lookupHedgeDelay: .milliseconds(400))
        try await Self.withSlowLookup(.seconds(1), first: (.milliseconds(600), true), configuration: configuration,
                                      timeouts: .init(request: .seconds(10))) { server, lookup, transport throws in
            #expect(try await transport.post(Self.url(server)).status == 200)
            #expect(lookup.calls.load(ordering: .relaxed) >= 2)
        }
    }

    @Test func aLookupThatFailsAloneFailsAtOnceWithoutAnother() async throws {
        let configuration = NIOHTTPClient.Configuration(lookupHedgeDelay: .milliseconds(200))
        try await Self.withSlowLookup(.zero, first: (.milliseconds(50), true), configuration: configuration,
                                      timeouts: .init(request: .seconds(10))) { server, lookup, transport throws in
            let started = ContinuousClock.now
            let error = await #expect(throws: ProviderError.self) { try await transport.post(Self.url(server)) }
            #expect(ContinuousClock.now - started < .seconds(2))
            #expect(error?.code == .connectionError)
            #expect(error?.message.contains("could not resolve provider.test") == true)
            #expect(lookup.calls.load(ordering: .relaxed) == 1)
            #expect(server.connections == 0)
        }
    }

    @Test func aLookupPastTheRequestsDeadlineFailsAtTheDeadlineAsNotSent() async throws {
        let timeouts = TransportTimeouts(request: .milliseconds(300))
        try await Self.withSlowLookup(.seconds(3), timeouts: timeouts) { server, lookup, transport throws in
            let started = ContinuousClock.now
            let error = await #expect(throws: ProviderError.self) { try await transport.post(Self.url(server)) }
            #expect(ContinuousClock.now - started < .seconds(2))
            #expect(error?.code == .connectTimeout)
            #expect(error?.message.contains("could not resolve provider.test before the request's deadline") == true)
            #expect(error?.mayHaveReachedProvider == false)
            #expect(server.connections == 0)
            // No connect waits any more, so no lookup is started beside the first one.
            try await Task.sleep(for: .milliseconds(1500))
            #expect(lookup.calls.load(ordering: .relaxed) == 1)
        }
    }

    @Test func aSlowLookupAndASlowConnectAreLoggedAtInfoWithTheirDuration() async throws {
        // A lookup that blocks 300 ms against a threshold of 100 ms: one info line for the lookup, none at the
        // default threshold (1 s). The connect to 127.0.0.1 is quick, so it is logged only with a threshold of zero.
        for (threshold, lookupLogged, connectLogged) in [
            (Duration.milliseconds(100), true, false), (.seconds(1), false, false), (.zero, true, true),
        ] {
            let logs = LogBox()
            try await Self.withSlowLookup(.milliseconds(300),
                                          configuration: .init(slowSetupThreshold: threshold)) { server, _, transport throws in
                let response = try await transport.post(
                    url: Self.url(server), headers: [], body: "{}", provider: .amanpay, operation: "balance",
                    logger: logs.logger)
                #expect(response.status == 200)
                let lines = logs.records.withLock { $0 }
                let lookup = lines.filter { $0.hasPrefix("provider host lookup slow") }
                #expect(lookup.count == (lookupLogged ? 1 : 0), "threshold \(threshold): \(lines)")
                if let line = lookup.first {
                    #expect(line.contains("provider.test:\(server.port)"))
                    #expect(line.contains("paybridge.http.outcome\": ok") || line.contains("paybridge.http.outcome: ok"),
                            "\(line)")
                    let milliseconds = line.firstMatch(of: /paybridge\.http\.duration_ms"?: (\d+)/).flatMap { Int($0.1) }
                    #expect((milliseconds ?? 0) >= 300, "\(line)")
                }
                #expect(lines.filter { $0.hasPrefix("provider connect slow") }.count == (connectLogged ? 1 : 0),
                        "threshold \(threshold): \(lines)")
            }
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
