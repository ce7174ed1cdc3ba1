import PayBridgeContract
import PayBridgeRules
import Testing

/// The gate's transitions, without I/O.
@Suite struct OutcomeGateStateTests {
    @Test func anOpenGateLetsEveryoneThrough() {
        var gate = OutcomeGateState<Int>()
        #expect(gate.waitRequested(id: 0, 10) == .resume(10))
        #expect(gate.publishSucceeded() == .none)
        #expect(gate.isOpen)
    }

    @Test func aFailedPublishClosesItOnceAndHoldsNewCommandsUntilAPublishSucceeds() {
        var gate = OutcomeGateState<Int>()
        #expect(gate.publishFailed(reason: "not_found") == .reportClosed(reason: "not_found"))
        #expect(gate.publishFailed(reason: "timeout") == .none, "reported once, not per failure")
        #expect(gate.waitRequested(id: 1, 11) == .none)
        #expect(gate.waitRequested(id: 2, 12) == .none)
        #expect(!gate.isOpen)
        #expect(gate.publishSucceeded() == .reportOpen(resume: [11, 12]), "in arrival order")
        #expect(gate.isOpen)
        #expect(gate.publishSucceeded() == .none)
    }

    @Test func aCancelledWaiterIsLetGoAndNotResumedTwice() {
        var gate = OutcomeGateState<Int>()
        _ = gate.publishFailed(reason: "unroutable")
        _ = gate.waitRequested(id: 1, 11)
        _ = gate.waitRequested(id: 2, 12)
        #expect(gate.waiterCancelled(id: 1) == .cancel(11))
        #expect(gate.publishSucceeded() == .reportOpen(resume: [12]))
    }

    @Test func aCancellationThatArrivesBeforeItsWaitLetsTheWaitGoAtOnce() {
        var gate = OutcomeGateState<Int>()
        _ = gate.publishFailed(reason: "unroutable")
        #expect(gate.waiterCancelled(id: 7) == .none)
        #expect(gate.waitRequested(id: 7, 17) == .cancel(17))
        #expect(gate.publishSucceeded() == .reportOpen(resume: []))
    }

    @Test func theRetryDelayDoublesUpToItsMaximum() {
        let retry = OutcomeRetry(initialDelay: .milliseconds(500), maximumDelay: .seconds(30))
        #expect(retry.delay(afterFailures: 0) == .milliseconds(500))
        #expect(retry.delay(afterFailures: 1) == .seconds(1))
        #expect(retry.delay(afterFailures: 5) == .seconds(16))
        #expect(retry.delay(afterFailures: 6) == .seconds(30))
        #expect(retry.delay(afterFailures: Int.max) == .seconds(30), "no overflow however long it lasts")
    }
}
