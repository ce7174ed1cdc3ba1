@testable import PayBridge
import PayBridgeRules
import PayBridgeContract
import PaymentVocabulary
import ProviderCore
import Synchronization

/// A ``PaymentCommandExecutor`` that holds every call at a gate until the test opens it: the test can see a call
/// reach the provider (``entered``) and decide when it answers. Records each call's command id and `statusFirst`.
final class GatedCommandExecutor: PaymentCommandExecutor {
    private struct State {
        var calls: [(commandId: String, statusFirst: Bool)] = []
        var held: [CheckedContinuation<Void, Never>] = []
        var open = false
    }

    let provider: Provider = .amanpay
    /// One element each time a call reaches the executor.
    let entered: AsyncStream<String>
    private let enteredContinuation: AsyncStream<String>.Continuation
    private let answer: @Sendable () throws -> ProviderResult
    private let state = Mutex(State())

    init(answer: @escaping @Sendable () throws -> ProviderResult) {
        self.answer = answer
        (entered, enteredContinuation) = AsyncStream.makeStream()
    }

    /// `statusFirst` of every call, in order.
    var statusFirstCalls: [Bool] { state.withLock { $0.calls.map(\.statusFirst) } }

    /// Lets every held call, and every later one, answer.
    func open() {
        let held = state.withLock { s in
            s.open = true
            defer { s.held.removeAll() }
            return s.held
        }
        for continuation in held { continuation.resume() }
    }

    func execute(_ command: PaymentCommand, statusFirst: Bool) async throws -> ProviderResult {
        state.withLock { $0.calls.append((command.id, statusFirst)) }
        enteredContinuation.yield(command.id)
        await withCheckedContinuation { continuation in
            let isOpen = state.withLock { s in
                if !s.open { s.held.append(continuation) }
                return s.open
            }
            if isOpen { continuation.resume() }
        }
        return try answer()
    }

    /// Callback notifications are not held: confirmed with the scripted answer as callback and status read.
    func confirm(_ notification: CallbackNotification) async throws -> CallbackConfirmation {
        let result = try answer()
        return .confirmed(claim: result, read: result, kind: PaymentCommandKind(provider: result.provider, operation: result.operation))
    }

    /// Reconciliation checks read the scripted answer.
    func check(_ check: ReconcileCheck) async throws -> ProviderResult { try answer() }
}
