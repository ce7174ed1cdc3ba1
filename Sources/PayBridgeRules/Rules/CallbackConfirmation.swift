import PayBridgeContract
import PaymentVocabulary

/// What a worker established about a callback notification (``PaymentCommandExecutor/confirm(_:)``).
package enum CallbackConfirmation: Sendable {
    /// The callback verified and the provider's status API answered for its payment: `claim` is the callback as
    /// verified (evidence only), `read` the provider's current state, `operation` the kind the read found it as.
    case confirmed(claim: ProviderResult, read: ProviderResult, kind: PaymentCommandKind?)
    /// The callback verified but names no payment a status read could use (an Amanpay callback without
    /// `paymentID`, e.g. SPECIFICATION): only its signed values are known.
    case unconfirmable(claim: ProviderResult, kind: PaymentCommandKind?)
}
