import PayBridgeContract
import PayBridgeRules
import Testing

/// One command id, and one merchant payment id, executed by one task at a time: the table's decisions as values.
@Suite struct CommandFlightTableTests {
    typealias Table = CommandFlightTable<String>
    typealias Keys = Table.Keys

    static let create = Keys(commandId: "cmd-1", paymentId: "pay-1")

    /// The resolutions as comparable text (`ticket:reuse(outcome)` / `ticket:run`).
    static func text(_ resolutions: [(Table.Ticket, Table.Resolution)]) -> [String] {
        resolutions.map { ticket, resolution in
            switch resolution {
            case .reuse(let outcome): "\(ticket):reuse(\(outcome))"
            case .run: "\(ticket):run"
            }
        }
    }

    @Test func aSecondDeliveryOfTheSameCommandIdWaitsAndReusesTheFirstOutcome() {
        var table = Table(capacity: 10)
        let (first, firstArrival) = table.arrive(Self.create)
        let (second, secondArrival) = table.arrive(Self.create)
        #expect(firstArrival == .run)
        #expect(secondArrival == .wait)
        let resolved = table.finish(first, outcome: "REDIRECT")
        #expect(Self.text(resolved) == ["\(second):reuse(REDIRECT)"])
        #expect(table.runningCount == 0)
        #expect(table.waitingCount == 0, "nothing is left behind")
    }

    @Test func anotherCommandForTheSamePaymentRunsAfterTheFirstNeverAlongside() {
        var table = Table(capacity: 10)
        let (first, _) = table.arrive(Self.create)
        let (status, arrival) = table.arrive(Keys(commandId: "cmd-2", paymentId: "pay-1"))
        #expect(arrival == .wait)
        let resolved = table.finish(first, outcome: "REDIRECT")
        #expect(Self.text(resolved) == ["\(status):run"])
        #expect(table.runningCount == 1)
        let none = table.finish(status, outcome: "REDIRECT")
        #expect(none.isEmpty)
        #expect(table.runningCount == 0)
    }

    @Test func aCommandIdIsHeldEvenWhenItsPaymentIdDiffers() {
        var table = Table(capacity: 10)
        _ = table.arrive(Self.create)
        let sameId = table.arrive(Keys(commandId: "cmd-1", paymentId: "pay-9")).1
        let noPayment = table.arrive(Keys(commandId: "cmd-3", paymentId: nil)).1
        let otherPayment = table.arrive(Keys(commandId: "cmd-4", paymentId: "pay-2")).1
        #expect(sameId == .wait)
        #expect(noPayment == .run, "unrelated keys run at once")
        #expect(otherPayment == .run)
    }

    @Test func withoutAnOutcomeTheNextSameIdWaiterRunsAndTheOneBehindItReusesThat() {
        var table = Table(capacity: 10)
        let (first, _) = table.arrive(Self.create)
        let (second, _) = table.arrive(Self.create)
        let (third, _) = table.arrive(Self.create)
        let afterCancel = table.finish(first, outcome: nil)
        #expect(Self.text(afterCancel) == ["\(second):run"], "cancelled: nothing to reuse")
        let afterSecond = table.finish(second, outcome: "PENDING")
        #expect(Self.text(afterSecond) == ["\(third):reuse(PENDING)"])
    }

    @Test func waitersAreServedInArrivalOrderAndANewcomerNeverOvertakesThem() {
        var table = Table(capacity: 10)
        let (first, _) = table.arrive(Self.create)
        let (b, _) = table.arrive(Keys(commandId: "cmd-b", paymentId: "pay-1"))
        let (c, _) = table.arrive(Keys(commandId: "cmd-c", paymentId: "pay-1"))
        let afterFirst = table.finish(first, outcome: "x")
        #expect(Self.text(afterFirst) == ["\(b):run"])
        let newcomer = table.arrive(Keys(commandId: "cmd-d", paymentId: "pay-1")).1
        #expect(newcomer == .wait, "pay-1 is held by cmd-b")
        let afterB = table.finish(b, outcome: "y")
        #expect(Self.text(afterB) == ["\(c):run"])
    }

    @Test func theTableIsBoundedAndPastItsCapacityANewcomerIsUntracked() {
        var table = Table(capacity: 2)
        let (first, _) = table.arrive(Self.create)
        let second = table.arrive(Self.create).1
        let third = table.arrive(Keys(commandId: "cmd-9", paymentId: nil)).1
        #expect(second == .wait)
        #expect(third == .untracked)
        _ = table.finish(first, outcome: "x")
        let later = table.arrive(Keys(commandId: "cmd-9", paymentId: nil)).1
        #expect(later == .run)
    }

    @Test func finishingAnUnknownTicketChangesNothing() {
        var table = Table(capacity: 10)
        _ = table.arrive(Self.create)
        let none = table.finish(12345, outcome: "x")
        #expect(none.isEmpty)
        #expect(table.runningCount == 1)
    }
}
