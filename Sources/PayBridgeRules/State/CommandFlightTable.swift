/// Which command executions may run now, within one worker process: one command id, and one
/// merchant payment id, is executed by one task at a time. A plain value with no I/O and no clock;
/// ``CommandSingleFlight`` wraps it for async callers.
///
/// - A command whose command id and payment id are free runs at once (``Arrival/run``).
/// - Otherwise it waits (``Arrival/wait``). When the execution holding its keys finishes, a waiter with the same
///   command id reuses that execution's outcome instead of running (``Resolution/reuse(_:)``); a waiter for another
///   command of the same payment (or a same-id waiter when the first ended without an outcome) runs next, told that
///   another execution for its keys came first (``Resolution/run``): a create then reads the status first.
/// - Waiters are served in arrival order; a newcomer never overtakes a waiter for the same keys.
/// - Bounded: at most `capacity` executions are running or waiting. Past that a newcomer is not tracked
///   (``Arrival/untracked``): it runs, status-first. In the worker the prefetch bounds it long before.
package struct CommandFlightTable<Outcome: Sendable>: Sendable {
    /// What an execution is keyed by. The payment id is the merchant's (`nil` when the command carries none); the
    /// table belongs to one provider's processor, so payment ids of different providers never meet.
    package struct Keys: Hashable, Sendable {
        package var commandId: String
        package var paymentId: String?

        package init(commandId: String, paymentId: String?) {
            self.commandId = commandId
            self.paymentId = paymentId
        }
    }

    /// Identifies one arrival until it is resolved and finished.
    package typealias Ticket = UInt64

    package enum Arrival: Equatable, Sendable {
        /// Run now; call ``finish(_:outcome:)`` afterwards.
        case run
        /// Another execution holds a key: wait for ``finish(_:outcome:)`` to resolve this ticket.
        case wait
        /// The table is full: run without it (status-first); do not call ``finish(_:outcome:)``.
        case untracked
    }

    package enum Resolution: Sendable {
        /// An execution with the same command id finished with this outcome: use it; do not run, do not finish.
        case reuse(Outcome)
        /// Run now, after another execution for the same keys; call ``finish(_:outcome:)`` afterwards.
        case run
    }

    private struct Waiter: Sendable {
        package var ticket: Ticket
        package var keys: Keys
    }

    /// Executions running and waiting, together, at most.
    package let capacity: Int
    private var nextTicket: Ticket = 0
    private var running: [Ticket: Keys] = [:]
    private var heldCommandIds: Set<String> = []
    private var heldPaymentIds: Set<String> = []
    private var waiters: [Waiter] = []

    package init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// Executions running now.
    package var runningCount: Int { running.count }
    /// Executions waiting now.
    package var waitingCount: Int { waiters.count }

    /// An execution of `keys` wants to start.
    package mutating func arrive(_ keys: Keys) -> (Ticket, Arrival) {
        nextTicket &+= 1
        let ticket = nextTicket
        guard running.count + waiters.count < capacity else { return (ticket, .untracked) }
        if isFree(keys) {
            hold(ticket, keys)
            return (ticket, .run)
        }
        waiters.append(Waiter(ticket: ticket, keys: keys))
        return (ticket, .wait)
    }

    /// The execution of `ticket` (admitted by ``Arrival/run`` or ``Resolution/run``) ended with `outcome` (`nil`:
    /// without one, e.g. cancelled). Returns the waiters this resolves, in arrival order.
    package mutating func finish(_ ticket: Ticket, outcome: Outcome?) -> [(Ticket, Resolution)] {
        guard let keys = running.removeValue(forKey: ticket) else { return [] }
        heldCommandIds.remove(keys.commandId)
        if let paymentId = keys.paymentId { heldPaymentIds.remove(paymentId) }
        var resolved: [(Ticket, Resolution)] = []
        var stillWaiting: [Waiter] = []
        for waiter in waiters {
            if let outcome, waiter.keys.commandId == keys.commandId {
                resolved.append((waiter.ticket, .reuse(outcome)))
            } else if isFree(waiter.keys) {
                hold(waiter.ticket, waiter.keys)
                resolved.append((waiter.ticket, .run))
            } else {
                stillWaiting.append(waiter)
            }
        }
        waiters = stillWaiting
        return resolved
    }

    private func isFree(_ keys: Keys) -> Bool {
        guard !heldCommandIds.contains(keys.commandId) else { return false }
        guard let paymentId = keys.paymentId else { return true }
        return !heldPaymentIds.contains(paymentId)
    }

    private mutating func hold(_ ticket: Ticket, _ keys: Keys) {
        running[ticket] = keys
        heldCommandIds.insert(keys.commandId)
        if let paymentId = keys.paymentId { heldPaymentIds.insert(paymentId) }
    }
}
