@testable import PayBridge
import PayBridgeRules
import PayBridgeContract
import PaymentVocabulary
import ProviderCore
import Synchronization

/// A ``PaymentCommandExecutor`` that answers every command with the same scripted result or error, and records
/// each call's `statusFirst`. Callback notifications are confirmed with the scripted result as both the callback
/// and the status read.
final class ScriptedCommandExecutor: PaymentCommandExecutor {
    let provider: Provider
    private let answer: @Sendable () throws -> ProviderResult
    private let calls = Mutex<[Bool]>([])

    init(provider: Provider = .amanpay, answer: @escaping @Sendable () throws -> ProviderResult) {
        self.provider = provider
        self.answer = answer
    }

    /// `statusFirst` of every call, in order.
    var statusFirstCalls: [Bool] { calls.withLock { $0 } }

    func execute(_ command: PaymentCommand, statusFirst: Bool) async throws -> ProviderResult {
        calls.withLock { $0.append(statusFirst) }
        return try answer()
    }

    func confirm(_ notification: CallbackNotification) async throws -> CallbackConfirmation {
        let result = try answer()
        return .confirmed(claim: result, read: result, kind: PaymentCommandKind(provider: result.provider, operation: result.operation))
    }

    /// Reconciliation checks read the scripted answer.
    func check(_ check: ReconcileCheck) async throws -> ProviderResult { try answer() }
}
