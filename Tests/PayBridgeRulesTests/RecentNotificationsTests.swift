import PayBridgeContract
import PayBridgeRules
import Testing

/// "replays cost little": identical callback notifications within the window are read once. Pure:
/// instants are passed in.
@Suite struct RecentNotificationsTests {
    let start = ContinuousClock.now
    /// `shouldRead`, outside `#expect` (whose expansion cannot call a mutating method).
    func read(_ recent: inout RecentNotifications, _ key: String, now: ContinuousClock.Instant) -> Bool {
        recent.shouldRead(key, now: now)
    }

    let key = RecentNotifications.key(provider: "amanpay", account: "default", bodyDigest: "abc", signature: "sig")

    @Test func anIdenticalNotificationWithinTheWindowIsNotReadAgain() {
        var recent = RecentNotifications(window: .seconds(30))
        #expect(read(&recent, key, now: start))
        #expect(!read(&recent, key, now: start + .seconds(1)))
        #expect(!read(&recent, key, now: start + .seconds(29)))
        #expect(read(&recent, key, now: start + .seconds(30)), "the window runs from the read")
        #expect(!read(&recent, key, now: start + .seconds(31)))
    }

    @Test func anotherBodySignatureAccountOrProviderIsAnotherNotification() {
        var recent = RecentNotifications(window: .seconds(30))
        #expect(read(&recent, key, now: start))
        for other in [
            RecentNotifications.key(provider: "amanpay", account: "default", bodyDigest: "abd", signature: "sig"),
            RecentNotifications.key(provider: "amanpay", account: "default", bodyDigest: "abc", signature: "sih"),
            RecentNotifications.key(provider: "amanpay", account: "default", bodyDigest: "abc", signature: nil),
            RecentNotifications.key(provider: "amanpay", account: "bd", bodyDigest: "abc", signature: "sig"),
            RecentNotifications.key(provider: "firstpay", account: "default", bodyDigest: "abc", signature: "sig"),
        ] {
            #expect(read(&recent, other, now: start + .seconds(1)))
        }
    }

    @Test func aZeroWindowReadsEveryOne() {
        var recent = RecentNotifications(window: .zero)
        #expect(read(&recent, key, now: start) && read(&recent, key, now: start))
        #expect(recent.count == 0)
    }

    @Test func memoryIsBoundedWhateverArrives() {
        var recent = RecentNotifications(window: .seconds(3600), capacity: 100)
        for index in 0..<10_000 {
            #expect(read(&recent, "k\(index)", now: start + .milliseconds(index)))
        }
        #expect(recent.count == 100)
        #expect(!read(&recent, "k9999", now: start + .seconds(11)), "the newest are kept")
        #expect(read(&recent, "k0", now: start + .seconds(11)), "the oldest were forgotten")
        // Expired entries go first.
        #expect(read(&recent, "late", now: start + .seconds(7200)))
        #expect(recent.count == 1)
    }
}
