import PayBridgeContract
import PayBridgeRules
import PaymentVocabulary
import ProviderCore
import StrictJSON

/// Runs a validated command against its provider. One implementation per provider.
///
/// Implementations throw ``ProviderError`` for everything the provider or the network can cause, and
/// ``CommandDataError`` when the command's `data` cannot be turned into a request (which the schema should
/// already have prevented).
protocol PaymentCommandExecutor: Sendable {
    var provider: Provider { get }
    /// Executes `command`. With `statusFirst`, a create first reads the payment's status by the merchant's id
    /// and only sends the create when the provider says it does not exist (A5, F8): used for redeliveries,
    /// retries and command ids seen before, so a command seen twice never creates twice.
    func execute(_ command: PaymentCommand, statusFirst: Bool) async throws -> ProviderResult
    /// Verifies a stored callback again and reads its payment's status over the provider's authenticated API
    /// (callbacks are notifications). Only signed values choose what is read; unsigned ones may only
    /// order the reads. Throws ``ProviderError``: `not_found` when the provider does not know the payment.
    func confirm(_ notification: CallbackNotification) async throws -> CallbackConfirmation
    /// Reads the status of a payment left open, for a reconciliation check, by the merchant's payment id
    /// (and the provider's, when known). Throws ``ProviderError``.
    func check(_ check: ReconcileCheck) async throws -> ProviderResult
    /// Fetches the payment methods a query asks for (FirstPay only). Throws ``ProviderError``.
    func paymentMethods(_ query: PaymentMethodsQuery) async throws -> JSONValue
}

extension PaymentCommandExecutor {
    /// Only FirstPay has payment methods to ask for (queries reach only FirstPay's command queue).
    func paymentMethods(_ query: PaymentMethodsQuery) async throws -> JSONValue {
        throw ProviderError(provider: provider, operation: "payment_methods", errorClass: .invalidCommand,
                            code: ProviderError.Code(rawValue: "UNSUPPORTED_QUERY"),
                            message: "\(provider.rawValue) has no payment-methods query", mayHaveReachedProvider: false)
    }
}
