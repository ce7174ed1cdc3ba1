import PayBridgeContract
import PayBridgeRules
import PayBridgeTestKit
import PaymentVocabulary
import Testing

/// ``WorkerMemory`` as a plain value: each event in, the adjustment out, no clock, no lock, no I/O.
@Suite struct WorkerMemoryTests {
    typealias Fixtures = CommandDeliveryFixtures
    static let pk = MerchantAccount("pk")!
    static let bd = MerchantAccount("bd")!
    let start = ContinuousClock.now

    static func memory(accounts: Set<MerchantAccount> = [pk, bd], window: Duration = .seconds(30),
                       threshold: Int = 2) -> WorkerMemory {
        WorkerMemory(accounts: accounts, accountPause: (.seconds(5), .seconds(300)), badSignatureThreshold: threshold,
                     notificationWindow: window)
    }

    static let pausePlan = DeliveryPlan(disposition: .putBackAndPause(reason: "INVALID_API_KEY"),
                                        verdict: .pausedForConfiguration(code: .init(rawValue: "INVALID_API_KEY")))
    static let answerPlan = DeliveryPlan(disposition: .ack, verdict: .answered(status: .succeeded))

    static func badSignature(_ id: String) throws -> DeliveryExecution {
        let command = try DeliveryRules(provider: .amanpay, maxAttempts: 3)
            .decode(Fixtures.delivery(Fixtures.body(.amanpayPurchase, id: id, data: Fixtures.purchaseData))).get()
        return .command(command, .providerFailed(Fixtures.failure(.providerError, "INVALID_RESPONSE_SIGNATURE")))
    }

    @Test func anAccountNobodyPausedProceeds() {
        var memory = Self.memory()
        let result1 = memory.arrived(account: Self.pk, notificationKey: nil, now: start)
        #expect(result1 == .proceed)
    }

    @Test func aPauseIsNarrowedToItsAccountAndDefersItsNextDeliveries() {
        var memory = Self.memory()
        let result2 = memory.planned(Self.pausePlan, account: Self.pk, now: start)
        #expect(result2 == .deferAccount(stage: 1, newlyPaused: true))
        // A delivery of the same account that was in flight when it paused: deferred, not paused again.
        let result3 = memory.planned(Self.pausePlan, account: Self.pk, now: start)
        #expect(result3 == .deferAccount(stage: 1, newlyPaused: false))
        let result4 = memory.arrived(account: Self.pk, notificationKey: nil, now: start)
        #expect(result4 == .defer(stage: 1))
        let result5 = memory.arrived(account: Self.bd, notificationKey: nil, now: start)
        #expect(result5 == .proceed)
        let result6 = memory.arrived(account: Self.pk, notificationKey: nil, now: start + .seconds(6))
        #expect(result6 == .proceed)
    }

    @Test func theLastAccountStandingPausesTheQueue() {
        var memory = Self.memory(accounts: [Self.pk])
        let result7 = memory.planned(Self.pausePlan, account: Self.pk, now: start)
        #expect(result7 == .keep)
    }

    @Test func aUsableAnswerEndsTheAccountsPause() {
        var memory = Self.memory()
        _ = memory.planned(Self.pausePlan, account: Self.pk, now: start)
        let result8 = memory.planned(Self.answerPlan, account: Self.pk, now: start)
        #expect(result8 == .keep)
        let result9 = memory.arrived(account: Self.pk, notificationKey: nil, now: start)
        #expect(result9 == .proceed)
    }

    @Test func anIdenticalNotificationWithinTheWindowIsNotReadAgain() {
        var memory = Self.memory()
        let result10 = memory.arrived(account: Self.pk, notificationKey: "k", now: start)
        #expect(result10 == .proceed)
        let result11 = memory.arrived(account: Self.pk, notificationKey: "k", now: start + .seconds(1))
        #expect(result11 == .duplicateNotification)
        let result12 = memory.arrived(account: Self.pk, notificationKey: "other", now: start + .seconds(1))
        #expect(result12 == .proceed)
        let result13 = memory.arrived(account: Self.pk, notificationKey: "k", now: start + .seconds(31))
        #expect(result13 == .proceed)
        var off = Self.memory(window: .zero)
        let result14 = off.arrived(account: Self.pk, notificationKey: "k", now: start)
        #expect(result14 == .proceed)
        let result15 = off.arrived(account: Self.pk, notificationKey: "k", now: start)
        #expect(result15 == .proceed)
    }

    @Test func aCommandIdIsSeenOnceThenRemembered() {
        var memory = Self.memory()
        let result16 = memory.seen(commandId: "cmd-1")
        #expect(!result16)
        let result17 = memory.seen(commandId: "cmd-1")
        #expect(result17)
        let result18 = memory.seen(commandId: "cmd-2")
        #expect(!result18)
    }

    @Test func badSignaturesAcrossCommandsAskForAPauseAtTheThreshold() throws {
        var memory = Self.memory(threshold: 2)
        let result19 = memory.executed(try Self.badSignature("cmd-1"), account: Self.pk)
        #expect(result19 == .keep)
        let result20 = memory.executed(try Self.badSignature("cmd-2"), account: Self.pk)
        #expect(result20 == .pauseForBadSignatures(count: 2))
        // Another account's streak is its own.
        let result21 = memory.executed(try Self.badSignature("cmd-3"), account: Self.bd)
        #expect(result21 == .keep)
    }

    @Test func aUsableAnswerEndsTheStreak() throws {
        var memory = Self.memory(threshold: 2)
        let result22 = memory.executed(try Self.badSignature("cmd-1"), account: Self.pk)
        #expect(result22 == .keep)
        let command = try DeliveryRules(provider: .amanpay, maxAttempts: 3).decode(Fixtures.purchase()).get()
        let answer = ProviderResult(provider: .amanpay, operation: "purchase", status: .succeeded, rawBody: "{}")
        let result23 = memory.executed(.command(command, .answered(answer)), account: Self.pk)
        #expect(result23 == .keep)
        let result24 = memory.executed(try Self.badSignature("cmd-2"), account: Self.pk)
        #expect(result24 == .keep)
    }
}
