import PayBridgeRules
import PayBridgeContract
import Testing

/// one account's failure pauses that account, not the queue it shares with the others; the queue
/// pauses only when every account is paused. Pure: instants are passed in.
@Suite struct AccountPausesTests {
    let bd = MerchantAccount("bd")!
    let pk = MerchantAccount("pk")!
    let start = ContinuousClock.now

    func pauses(_ accounts: Set<MerchantAccount>) -> AccountPauses {
        AccountPauses(accounts: accounts, initialPause: .seconds(5), maximumPause: .seconds(300))
    }

    @Test func aFailingAccountIsPausedWhileTheOtherGoesOn() {
        var book = pauses([bd, pk])
        #expect(book.failed(pk, reason: "configuration: INVALID_API_KEY", now: start) == .deferAccount(stage: 1))
        #expect(book.isPaused(pk, now: start + .seconds(1)))
        #expect(!book.isPaused(bd, now: start + .seconds(1)))
        #expect(book.deferral(of: bd, now: start + .seconds(1)) == nil)
        #expect(book.deferral(of: pk, now: start + .seconds(1)) == 1)
        #expect(!book.isPaused(pk, now: start + .seconds(5)), "the pause ends: the next command is the probe")
    }

    @Test func aProviderWithOneAccountPausesItsQueueAsBefore() {
        var book = pauses([.default])
        #expect(book.failed(.default, reason: "circuit open", now: start) == .pauseQueue)
        #expect(!book.isPaused(.default, now: start), "the queue's pause covers it; not recorded here")
    }

    @Test func theQueuePausesOnlyWhenEveryOtherAccountIsPaused() {
        var book = pauses([bd, pk])
        #expect(book.failed(pk, reason: "r", now: start) == .deferAccount(stage: 1))
        #expect(book.failed(bd, reason: "r", now: start + .seconds(1)) == .pauseQueue)
        #expect(!book.isPaused(bd, now: start + .seconds(1)))
        // pk's pause ended: bd failing again pauses bd alone.
        #expect(book.failed(bd, reason: "r", now: start + .seconds(6)) == .deferAccount(stage: 1))
    }

    @Test func failuresWhileAlreadyPausedDoNotLengthenThePause() {
        var book = pauses([bd, pk])
        _ = book.failed(pk, reason: "r", now: start)
        #expect(book.failed(pk, reason: "r", now: start + .seconds(1)) == .deferAccount(stage: 1))
        #expect(!book.isPaused(pk, now: start + .seconds(5)))
    }

    @Test func pausesDoubleUpToTheMaximumAndAUsableAnswerResetsThem() {
        var book = pauses([bd, pk])
        var now = start
        var lengths: [Duration] = []
        for _ in 0..<8 {
            _ = book.failed(pk, reason: "r", now: now)
            let until = book.pauses[pk]!.until
            lengths.append(until - now)
            now = until
        }
        #expect(lengths == [5, 10, 20, 40, 80, 160, 300, 300].map { Duration.seconds($0) })
        book.answered(pk)
        #expect(!book.isPaused(pk, now: now))
        _ = book.failed(pk, reason: "r", now: now)
        #expect(book.pauses[pk]!.until - now == .seconds(5))
    }

    @Test func theDelayStageFitsTheTimeLeft() {
        #expect(AccountPauses.stage(for: .seconds(1)) == 1)
        #expect(AccountPauses.stage(for: .seconds(29)) == 1)
        #expect(AccountPauses.stage(for: .seconds(30)) == 2)
        #expect(AccountPauses.stage(for: .seconds(300)) == 3)
        #expect(AccountPauses.stage(for: .seconds(100_000)) == Topology.retryDelays.count)
        var book = pauses([bd, pk])
        for _ in 0..<6 { _ = book.failed(pk, reason: "r", now: book.pauses[pk]?.until ?? start) }
        let until = book.pauses[pk]!.until
        #expect(book.deferral(of: pk, now: until - .seconds(150)) == 3)
        #expect(book.deferral(of: pk, now: until - .seconds(40)) == 2)
        #expect(book.deferral(of: pk, now: until - .seconds(2)) == 1)
    }
}
