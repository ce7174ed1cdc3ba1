import NIOCore
@testable import PayBridge
import PayBridgeContract
import Testing

/// The callback edge's per-client bookkeeping without a server: the token buckets of ``CallbackRateLimiter``, the
/// bound on its key table, and ``HTTPConnectionGuard``'s per-client counts. Over real HTTP: HTTPListenerTests.
@Suite struct CallbackEdgeLimitsTests {
    static func client(_ ip: String) throws -> ClientAddress {
        ClientAddress(try SocketAddress(ipAddress: ip, port: 4000))
    }

    static func key(_ ip: String, account: MerchantAccount? = .default) throws -> CallbackRateLimiter.Key {
        CallbackRateLimiter.Key(client: try client(ip), provider: .amanpay, account: account)
    }

    @Test func aBucketServesItsBurstThenRefillsAtTheRate() throws {
        let limiter = CallbackRateLimiter(limit: CallbackRateLimit(perSecond: 2, burst: 3), metrics: PayBridgeMetrics())
        let key = try Self.key("192.0.2.1")
        let start = ContinuousClock.now
        for _ in 0..<3 { #expect(limiter.take(key, now: start) == .allowed) }
        #expect(limiter.take(key, now: start) == .refused(retryAfterSeconds: 1))
        // Half a second at 2 per second: one token.
        #expect(limiter.take(key, now: start + .milliseconds(500)) == .allowed)
        #expect(limiter.take(key, now: start + .milliseconds(500)) == .refused(retryAfterSeconds: 1))
        // A long quiet spell refills the bucket to its burst, not beyond.
        let later = start + .seconds(3600)
        for _ in 0..<3 { #expect(limiter.take(key, now: later) == .allowed) }
        #expect(limiter.take(key, now: later) != .allowed)
    }

    @Test func retryAfterIsTheWholeSecondsUntilTheNextToken() throws {
        let limiter = CallbackRateLimiter(limit: CallbackRateLimit(perSecond: 0.1, burst: 1), metrics: PayBridgeMetrics())
        let key = try Self.key("192.0.2.1")
        let start = ContinuousClock.now
        #expect(limiter.take(key, now: start) == .allowed)
        #expect(limiter.take(key, now: start) == .refused(retryAfterSeconds: 10))
        #expect(limiter.take(key, now: start + .milliseconds(2500)) == .refused(retryAfterSeconds: 8))
    }

    @Test func bucketsAreKeyedByClientProviderAndAccount() throws {
        let limiter = CallbackRateLimiter(limit: CallbackRateLimit(perSecond: 1, burst: 1), metrics: PayBridgeMetrics())
        let now = ContinuousClock.now
        let keys = [
            try Self.key("192.0.2.1"), try Self.key("192.0.2.2"), try Self.key("192.0.2.1", account: nil),
            try Self.key("192.0.2.1", account: MerchantAccount("bd")),
            .init(client: try Self.client("192.0.2.1"), provider: .firstpay, account: .default),
        ]
        for key in keys { #expect(limiter.take(key, now: now) == .allowed, "\(key)") }
        for key in keys { #expect(limiter.take(key, now: now) != .allowed, "\(key)") }
    }

    @Test func aFloodOfSourceAddressesKeepsTheKeyTableBounded() throws {
        let limiter = CallbackRateLimiter(limit: .default, metrics: PayBridgeMetrics(), keysPerGeneration: 1000)
        let now = ContinuousClock.now
        let busy = try Self.key("198.51.100.1")
        for _ in 0..<40 { _ = limiter.take(busy, now: now) }  // empties its bucket
        for index in 0..<100_000 {
            let ip = "10.\(index >> 16 & 255).\(index >> 8 & 255).\(index & 255)"
            #expect(limiter.take(try Self.key(ip), now: now) == .allowed)
            #expect(limiter.trackedKeys <= 2000)
            // A client that keeps sending keeps its (empty) bucket through the flood.
            if index % 500 == 0 { #expect(limiter.take(busy, now: now) != .allowed, "at \(index)") }
        }
    }

    @Test func refusalsAreCountedByProviderAndReasonWithoutTheAddress() throws {
        let metrics = PayBridgeMetrics()
        let limiter = CallbackRateLimiter(limit: CallbackRateLimit(perSecond: 1, burst: 1), metrics: metrics)
        let now = ContinuousClock.now
        for key in [try Self.key("192.0.2.7"), try Self.key("192.0.2.7", account: nil)] {
            for _ in 0..<3 { _ = limiter.take(key, now: now) }
        }
        let exposition = metrics.exposition()
        #expect(exposition.contains(#"paybridge_callbacks_rate_limited_total{provider="amanpay",reason="account"} 2"#))
        #expect(exposition.contains(
            #"paybridge_callbacks_rate_limited_total{provider="amanpay",reason="unknown_account"} 2"#))
        #expect(exposition.contains(#"paybridge_callbacks_rate_limited_total{provider="firstpay",reason="account"} 0"#))
        #expect(!exposition.contains("192.0.2.7"))
    }

    // MARK: client addresses

    @Test func ipv6ClientsAreTheir64PrefixAndMappedIPv4IsIPv4() throws {
        #expect(try Self.client("2001:db8:1:2::1") == Self.client("2001:db8:1:2:ffff::9"))
        #expect(try Self.client("2001:db8:1:2::1") != Self.client("2001:db8:1:3::1"))
        #expect(try Self.client("::ffff:192.0.2.1") == Self.client("192.0.2.1"))
        #expect(try Self.client("192.0.2.1") != Self.client("192.0.2.2"))
        #expect(ClientAddress(nil) == .unknown)
    }

    // MARK: connections per client

    @Test func theConnectionGuardCapsEachClientAndForgetsClientsWithNothingOpen() throws {
        let connections = HTTPConnectionGuard(maximumConnections: 4, maximumConnectionsPerClient: 2)
        let one = try Self.client("192.0.2.1"), two = try Self.client("192.0.2.2")
        #expect(connections.admit(from: one) == .admitted)
        #expect(connections.admit(from: one) == .admitted)
        #expect(connections.admit(from: one) == .clientFull)
        #expect(connections.admit(from: two) == .admitted)
        #expect(connections.open == 3 && connections.clients == 2)
        connections.release(from: one)
        #expect(connections.admit(from: one) == .admitted, "a closed connection gives its client's place back")
        #expect(connections.admit(from: two) == .admitted)
        #expect(connections.admit(from: try Self.client("192.0.2.3")) == .listenerFull)
        for client in [one, one, two, two] { connections.release(from: client) }
        #expect(connections.open == 0 && connections.clients == 0)
    }
}
