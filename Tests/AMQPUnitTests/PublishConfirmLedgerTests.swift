@testable import AMQP
import Testing

/// Every way a publish can end — confirmed, nacked, returned, timed out, connection or channel lost, closed —
/// without a broker or a thread. Waiters are plain numbers.
@Suite struct PublishConfirmLedgerTests {
    typealias Ledger = PublishConfirmLedger<Int>

    private func send(_ ledger: inout Ledger, _ waiter: Int, mandatory: Bool = false, routingKey: String = "rk",
                      body: [UInt8] = [1], deadline: ContinuousClock.Instant? = nil) -> UInt64 {
        ledger.sent(exchange: "ex", routingKey: routingKey, mandatory: mandatory, body: body, deadline: deadline,
                    waiter: waiter)
    }

    /// `basic.return`, outside `#expect` (the macro cannot take a mutating call).
    private func returned(_ ledger: inout Ledger, exchange: String, routingKey: String, body: [UInt8],
                          replyCode: UInt16, replyText: String) -> Bool {
        ledger.brokerReturned(exchange: exchange, routingKey: routingKey, body: body, replyCode: replyCode,
                              replyText: replyText)
    }

    private func ends(_ settled: [Ledger.Settled]) -> [Int: PublishEnd] {
        Dictionary(uniqueKeysWithValues: settled.map { ($0.waiter, $0.end) })
    }

    @Test func publishesAreNumberedFromOneAndConfirmedOneByOne() {
        var ledger = Ledger()
        #expect(send(&ledger, 10) == 1)
        #expect(send(&ledger, 11) == 2)
        #expect(ledger.brokerAcked(upTo: 2, multiple: false) == [.init(sequence: 2, waiter: 11, end: .confirmed)])
        #expect(ledger.count == 1)
        #expect(ledger.brokerAcked(upTo: 1, multiple: false) == [.init(sequence: 1, waiter: 10, end: .confirmed)])
        #expect(ledger.isEmpty)
    }

    @Test func aMultipleAckConfirmsEverythingUpToItsTagInOrder() {
        var ledger = Ledger()
        for waiter in 1...4 { _ = send(&ledger, waiter) }
        #expect(ledger.brokerAcked(upTo: 3, multiple: true).map(\.waiter) == [1, 2, 3])
        #expect(ledger.brokerAcked(upTo: 3, multiple: true) == [], "an ack is never applied twice")
        #expect(ledger.brokerAcked(upTo: 4, multiple: true).map(\.waiter) == [4])
    }

    @Test func aNackRefusesAndWinsOverAReturn() {
        var ledger = Ledger()
        _ = send(&ledger, 1, mandatory: true)
        _ = send(&ledger, 2)
        #expect(returned(&ledger, exchange: "ex", routingKey: "rk", body: [1], replyCode: 312, replyText: "NO_ROUTE"))
        #expect(ends(ledger.brokerNacked(upTo: 2, multiple: true)) == [1: .nacked, 2: .nacked])
    }

    @Test func aReturnedMandatoryPublishEndsUnroutableAtItsConfirm() {
        var ledger = Ledger()
        _ = send(&ledger, 1, mandatory: true, routingKey: "a")
        _ = send(&ledger, 2, mandatory: true, routingKey: "b")
        #expect(returned(&ledger, exchange: "ex", routingKey: "b", body: [1], replyCode: 312, replyText: "NO_ROUTE"))
        #expect(ends(ledger.brokerAcked(upTo: 2, multiple: true)) == [
            1: .confirmed, 2: .returned(exchange: "ex", routingKey: "b", replyCode: 312, replyText: "NO_ROUTE"),
        ])
    }

    @Test func aReturnMatchesTheOldestSamePublishAndNeverANonMandatoryOne() {
        var ledger = Ledger()
        _ = send(&ledger, 1)  // not mandatory: its body is not even kept
        _ = send(&ledger, 2, mandatory: true)
        _ = send(&ledger, 3, mandatory: true)
        #expect(returned(&ledger, exchange: "ex", routingKey: "rk", body: [1], replyCode: 312, replyText: "x"))
        let settled = ends(ledger.brokerAcked(upTo: 3, multiple: true))
        #expect(settled[1] == .confirmed)
        #expect(settled[2] == .returned(exchange: "ex", routingKey: "rk", replyCode: 312, replyText: "x"))
        #expect(settled[3] == .confirmed)
        #expect(!returned(&ledger, exchange: "ex", routingKey: "rk", body: [1], replyCode: 312, replyText: "x"),
                "nothing is left to match")
    }

    @Test func aReturnWithADifferentBodyMatchesNothing() {
        var ledger = Ledger()
        _ = send(&ledger, 1, mandatory: true, body: [1, 2])
        #expect(!returned(&ledger, exchange: "ex", routingKey: "rk", body: [9], replyCode: 312, replyText: ""))
        #expect(ends(ledger.brokerAcked(upTo: 1, multiple: false)) == [1: .confirmed])
    }

    @Test func aPassedDeadlineEndsOnlyTheOverduePublishesAndALateConfirmIsIgnored() {
        var ledger = Ledger()
        let now = ContinuousClock.now
        _ = send(&ledger, 1, deadline: now + .seconds(1))
        _ = send(&ledger, 2, deadline: now + .seconds(5))
        _ = send(&ledger, 3)
        #expect(ledger.deadlinesPassed(now: now) == [], "nothing is due yet")
        #expect(ledger.deadlinesPassed(now: now + .seconds(2)) == [.init(sequence: 1, waiter: 1, end: .confirmTimedOut)])
        #expect(ledger.earliestDeadline == now + .seconds(5))
        #expect(ledger.brokerAcked(upTo: 1, multiple: false) == [], "the late confirm of a timed-out publish")
        #expect(ends(ledger.deadlinesPassed(now: now + .seconds(9))) == [2: .confirmTimedOut])
        #expect(ledger.earliestDeadline == nil)
        #expect(ends(ledger.brokerAcked(upTo: 3, multiple: true)) == [3: .confirmed])
    }

    @Test func aLostConnectionEndsEveryUnconfirmedPublishAndTheNextChannelNumbersFromOne() {
        var ledger = Ledger()
        for waiter in 1...3 { _ = send(&ledger, waiter, deadline: .now + .seconds(60)) }
        _ = ledger.brokerAcked(upTo: 1, multiple: false)
        #expect(ledger.channelEnded(.connectionLost) == [.init(sequence: 2, waiter: 2, end: .connectionLost),
                                                         .init(sequence: 3, waiter: 3, end: .connectionLost)])
        #expect(ledger.isEmpty && ledger.earliestDeadline == nil)
        #expect(send(&ledger, 4) == 1)
        #expect(ends(ledger.brokerAcked(upTo: 1, multiple: true)) == [4: .confirmed])
    }

    @Test func aClosedChannelOrConnectionEndsPublishesWithThatReason() {
        var ledger = Ledger()
        _ = send(&ledger, 1)
        let closed = PublishEnd.channelClosed(channel: 1, replyCode: 404, replyText: "NOT_FOUND")
        #expect(ends(ledger.channelEnded(closed)) == [1: closed])
        _ = send(&ledger, 2)
        #expect(ends(ledger.channelEnded(.closed)) == [2: .closed])
    }

    @Test func aBogusTagFromTheBrokerSettlesNothingUnsent() {
        var ledger = Ledger()
        _ = send(&ledger, 1)
        #expect(ledger.brokerAcked(upTo: .max, multiple: true).map(\.waiter) == [1])
        #expect(ledger.brokerAcked(upTo: .max, multiple: false) == [])
        #expect(ledger.brokerNacked(upTo: 0, multiple: true) == [])
        #expect(send(&ledger, 2) == 2)
    }

    @Test func everyEndBecomesTheCallersResult() {
        let host = "127.0.0.1:5672"
        #expect((try? PublishEnd.confirmed.result(host: host).get()) != nil)
        let codes: [(PublishEnd, AMQPError.Code)] = [
            (.nacked, .publishNacked), (.returned(exchange: "e", routingKey: "k", replyCode: 312, replyText: ""),
                                        .unroutable),
            (.confirmTimedOut, .timeout), (.notSentInTime, .timeout), (.connectionLost, .connectionClosed),
            (.channelClosed(channel: 1, replyCode: 404, replyText: ""), .channelClosed), (.closed, .alreadyClosed),
        ]
        for (end, code) in codes {
            guard case .failure(let error) = end.result(host: host) else {
                Issue.record("\(end) succeeded")
                continue
            }
            #expect(error.code == code, "\(end)")
            #expect(error.host == host)
        }
        #expect(codes.allSatisfy { end, _ in
            guard case .failure(let error) = end.result(host: host) else { return false }
            return error.isRetryable == [.confirmTimedOut, .notSentInTime, .connectionLost].contains(end)
        }, "only what a later publish can fix is retryable")
    }
}
