import PayBridgeRules
import Synchronization

/// The async face of ``CommandFlightTable``: one command id, and one merchant payment id, executed by one task at a
/// time within this process. A second execution of the same command id waits and reuses the first one's outcome;
/// another command for the same payment waits and then runs, told that one ran before it (status-first).
///
/// The table decides; this class only parks and resumes the waiting tasks. A parked task is not woken by
/// cancellation: it waits for the execution in front of it, which is bounded by the provider client's timeouts.
final class CommandSingleFlight<Outcome: Sendable>: Sendable {
    typealias Keys = CommandFlightTable<Outcome>.Keys
    typealias Ticket = CommandFlightTable<Outcome>.Ticket
    typealias Resolution = CommandFlightTable<Outcome>.Resolution

    /// How an execution went through the table.
    enum Passage: Sendable {
        /// It ran alone, nothing for its keys before it.
        case first
        /// It ran after another execution for the same keys (or untracked, the table being full): status-first.
        case afterAnother
        /// Another execution with the same command id finished first; its outcome was reused, nothing ran.
        case reused
    }

    private struct State {
        var table: CommandFlightTable<Outcome>
        var parked: [Ticket: CheckedContinuation<Resolution, Never>] = [:]
        /// Resolutions that arrived before their waiter parked.
        var early: [Ticket: Resolution] = [:]
    }

    private let state: Mutex<State>

    init(capacity: Int) {
        state = Mutex(State(table: CommandFlightTable(capacity: capacity)))
    }

    /// Executions running and waiting now (for tests and metrics).
    var counts: (running: Int, waiting: Int) {
        state.withLock { ($0.table.runningCount, $0.table.waitingCount) }
    }

    /// Runs `body` for `keys` once the table admits it, or returns the outcome of a concurrent execution of the
    /// same command id. `body` is told whether another execution for the same keys came first.
    func run(_ keys: Keys, _ body: (_ afterAnother: Bool) async throws -> Outcome) async throws
        -> (outcome: Outcome, passage: Passage)
    {
        let (ticket, arrival) = state.withLock { $0.table.arrive(keys) }
        var passage = Passage.first
        switch arrival {
        case .run:
            break
        case .untracked:
            return (try await body(true), .afterAnother)
        case .wait:
            switch await parked(ticket) {
            case .reuse(let outcome): return (outcome, .reused)
            case .run: passage = .afterAnother
            }
        }
        let outcome: Outcome
        do {
            outcome = try await body(passage == .afterAnother)
        } catch {
            finish(ticket, outcome: nil)
            throw error
        }
        finish(ticket, outcome: outcome)
        return (outcome, passage)
    }

    private func parked(_ ticket: Ticket) async -> Resolution {
        await withCheckedContinuation { continuation in
            let early: Resolution? = state.withLock { s in
                if let resolution = s.early.removeValue(forKey: ticket) { return resolution }
                s.parked[ticket] = continuation
                return nil
            }
            if let early { continuation.resume(returning: early) }
        }
    }

    private func finish(_ ticket: Ticket, outcome: Outcome?) {
        let wake: [(CheckedContinuation<Resolution, Never>, Resolution)] = state.withLock { s in
            var wake: [(CheckedContinuation<Resolution, Never>, Resolution)] = []
            for (waiter, resolution) in s.table.finish(ticket, outcome: outcome) {
                if let continuation = s.parked.removeValue(forKey: waiter) {
                    wake.append((continuation, resolution))
                } else {
                    s.early[waiter] = resolution
                }
            }
            return wake
        }
        for (continuation, resolution) in wake { continuation.resume(returning: resolution) }
    }
}
