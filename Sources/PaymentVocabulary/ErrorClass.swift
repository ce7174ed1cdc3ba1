/// Why something went wrong, carried in `data.error.class`.
public enum ErrorClass: String, Sendable, Hashable, CaseIterable {
    /// The command is malformed (bad JSON, not a CloudEvent, unknown type, schema violation) or the provider
    /// refused it as a bad request. Do not resend it unchanged.
    case invalidCommand = "invalid_command"
    /// PayBridge's provider credentials or setup are wrong (Amanpay INVALID_API_KEY, FirstPay 401s). The command
    /// was not executed; PayBridge stops consuming that provider and backs off.
    case configuration
    /// The provider declined the payment (final; a new attempt needs a new payment id).
    case declined
    /// A temporary failure (timeout, connection error, 5xx, 429, transient provider code), reported while
    /// PayBridge keeps retrying or alongside a provider answer.
    case transient
    /// Transient failures persisted through every in-process and broker-side retry.
    case retriesExhausted = "retries_exhausted"
    /// The outcome is ambiguous: the request may have reached the provider and its state could not be read.
    case unknown
    /// The provider answered something unusable (bad signature, unparseable body, unexpected error).
    case providerError = "provider_error"
    /// The provider says the payment does not exist (status lookup: Amanpay TRANSACTION_NOT_FOUND, FirstPay 404
    /// NOT_FOUND). Reported as a response with status `failed` and `final` false: a create still in flight may
    /// make it appear.
    case notFound = "not_found"
}
