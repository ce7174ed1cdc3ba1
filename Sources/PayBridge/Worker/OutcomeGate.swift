import PayBridgeRules
import Synchronization

/// Holds new commands back while outcomes cannot be published (see ``OutcomeGateState``), and reports it in
/// `/readyz`. Decides under its lock, acts outside it.
final class OutcomeGate: Sendable {
    private struct Locked {
        var machine = OutcomeGateState<CheckedContinuation<Void, Never>>()
        var nextWaiterId = 0
    }
    private let locked = Mutex(Locked())
    private let readiness: Readiness

    init(readiness: Readiness) {
        self.readiness = readiness
    }

    var isOpen: Bool { locked.withLock { $0.machine.isOpen } }

    func publishFailed(reason: String) {
        act(locked.withLock { $0.machine.publishFailed(reason: reason) })
    }

    func publishSucceeded() {
        // The common case (open) costs one lock and no allocation.
        act(locked.withLock { $0.machine.publishSucceeded() })
    }

    /// Returns when the gate is open (at once in the common case), or when the calling task is cancelled.
    func waitUntilOpen() async {
        if isOpen { return }
        let id = locked.withLock { locked -> Int in
            defer { locked.nextWaiterId &+= 1 }
            return locked.nextWaiterId
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                act(locked.withLock { $0.machine.waitRequested(id: id, continuation) })
            }
        } onCancel: {
            act(locked.withLock { $0.machine.waiterCancelled(id: id) })
        }
    }

    private func act(_ action: OutcomeGateState<CheckedContinuation<Void, Never>>.Action) {
        switch action {
        case .none:
            return
        case .reportClosed(let reason):
            readiness.setOutcomesBlocked(reason: reason)
        case .reportOpen(let waiters):
            readiness.setOutcomesBlocked(reason: nil)
            for waiter in waiters { waiter.resume() }
        case .resume(let waiter), .cancel(let waiter):
            waiter.resume()
        }
    }
}
