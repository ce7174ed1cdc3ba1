/// Whether outcomes can currently be published, as a plain value: one mutating method per event, each returning
/// what the caller must do (``OutcomeGate`` carries the actions out, outside its lock).
///
/// The gate closes when a command's outcome (event, retry or dead letter) could not be published, and opens again
/// at the next confirmed publish. While it is closed, commands that have not reached the provider yet wait in
/// front of it, unacked, instead of calling the provider for outcomes that cannot be published either. The command
/// whose publish failed keeps retrying that publish (never the provider call), so the gate always reopens once the
/// broker side is fixed.
package struct OutcomeGateState<Waiter> {
    package enum State {
        case open
        case closed(reason: String, waiters: [(id: Int, waiter: Waiter)])
    }

    package enum Action {
        case none
        /// The gate just closed: report not ready with this reason.
        case reportClosed(reason: String)
        /// The gate just opened: report ready and let these waiters through.
        case reportOpen(resume: [Waiter])
        /// Let this waiter through (the gate is open).
        case resume(Waiter)
        /// A waiter that gave up (its task was cancelled): let it go.
        case cancel(Waiter)
    }

    package private(set) var state: State = .open
    /// Waiters whose cancellation arrived before their wait did (the two race in `withTaskCancellationHandler`).
    private var cancelledEarly: Set<Int> = []

    package init() {}

    package var isOpen: Bool {
        if case .open = state { return true }
        return false
    }

    /// An outcome could not be published.
    package mutating func publishFailed(reason: String) -> Action {
        switch state {
        case .open:
            state = .closed(reason: reason, waiters: [])
            return .reportClosed(reason: reason)
        case .closed(_, let waiters):
            state = .closed(reason: reason, waiters: waiters)
            return .none
        }
    }

    /// An outcome was published and confirmed.
    package mutating func publishSucceeded() -> Action {
        switch state {
        case .open:
            return .none
        case .closed(_, let waiters):
            state = .open
            return .reportOpen(resume: waiters.map(\.waiter))
        }
    }

    /// A command wants to start; `id` identifies it for ``waiterCancelled(id:)``.
    package mutating func waitRequested(id: Int, _ waiter: Waiter) -> Action {
        if cancelledEarly.remove(id) != nil { return .cancel(waiter) }
        switch state {
        case .open:
            return .resume(waiter)
        case .closed(let reason, var waiters):
            waiters.append((id, waiter))
            state = .closed(reason: reason, waiters: waiters)
            return .none
        }
    }

    /// The task of waiter `id` was cancelled.
    package mutating func waiterCancelled(id: Int) -> Action {
        guard case .closed(let reason, var waiters) = state,
              let index = waiters.firstIndex(where: { $0.id == id }) else {
            // Not waiting (yet): if its wait still arrives, it is let go at once. An id that already went
            // through stays here until the gate's owner is gone; ids are never reused.
            cancelledEarly.insert(id)
            return .none
        }
        let removed = waiters.remove(at: index)
        state = .closed(reason: reason, waiters: waiters)
        return .cancel(removed.waiter)
    }
}

extension OutcomeGateState.Action: Equatable where Waiter: Equatable {
    package static func == (lhs: Self, rhs: Self) -> Bool {
        switch (lhs, rhs) {
        case (.none, .none): true
        case (.reportClosed(let a), .reportClosed(let b)): a == b
        case (.reportOpen(let a), .reportOpen(let b)): a == b
        case (.resume(let a), .resume(let b)): a == b
        case (.cancel(let a), .cancel(let b)): a == b
        default: false
        }
    }
}
