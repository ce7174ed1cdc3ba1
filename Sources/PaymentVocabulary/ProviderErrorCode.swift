extension ProviderError {
    public typealias Code = ProviderErrorCode
}

/// A provider failure's code: the provider's own, passed through as it sent it (`INSUFFICIENT_WALLET_BALANCE`,
/// an `ERROR` text of FirstPay's), or one of the names below, which PayBridge's clients and rules give and
/// compare. Published as text in events and dead-letter headers (``rawValue``); compared by name in code.
public struct ProviderErrorCode: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }

    // --- The transport (ProviderCore).
    /// No answer within the request timeout.
    public static let timeout = ProviderErrorCode(rawValue: "TIMEOUT")
    /// The TCP or TLS connection could not be made in time.
    public static let connectTimeout = ProviderErrorCode(rawValue: "CONNECT_TIMEOUT")
    /// The provider's host refused the connection.
    public static let connectionRefused = ProviderErrorCode(rawValue: "CONNECTION_REFUSED")
    /// The connection failed or was reset.
    public static let connectionError = ProviderErrorCode(rawValue: "CONNECTION_ERROR")
    /// The response body is larger than PayBridge reads.
    public static let responseTooLarge = ProviderErrorCode(rawValue: "RESPONSE_TOO_LARGE")
    /// The circuit breaker refused the call without sending anything.
    public static let circuitOpen = ProviderErrorCode(rawValue: "CIRCUIT_OPEN")
    /// An HTTP status the provider's error format does not explain, e.g. `HTTP_502`.
    public static func http(_ status: Int) -> ProviderErrorCode { ProviderErrorCode(rawValue: "HTTP_\(status)") }

    // --- The clients (Amanpay, FirstPay).
    /// The response's signature does not verify (A2, F2).
    public static let invalidResponseSignature = ProviderErrorCode(rawValue: "INVALID_RESPONSE_SIGNATURE")
    /// The response is not what the provider's API documents.
    public static let malformedResponse = ProviderErrorCode(rawValue: "MALFORMED_RESPONSE")
    /// The request could not be built from the command (a field the provider refuses before sending).
    public static let invalidRequest = ProviderErrorCode(rawValue: "INVALID_REQUEST")
    /// A callback's or postback's signature does not verify.
    public static let invalidCallbackSignature = ProviderErrorCode(rawValue: "INVALID_CALLBACK_SIGNATURE")
    public static let invalidPostbackSignature = ProviderErrorCode(rawValue: "INVALID_POSTBACK_SIGNATURE")
    /// A callback or postback that is not what the provider's documents describe.
    public static let malformedCallback = ProviderErrorCode(rawValue: "MALFORMED_CALLBACK")
    public static let malformedPostback = ProviderErrorCode(rawValue: "MALFORMED_POSTBACK")
    /// FirstPay: the request could not be signed, or a configured key does not load.
    public static let signingFailed = ProviderErrorCode(rawValue: "SIGNING_FAILED")
    public static let invalidPrivateKey = ProviderErrorCode(rawValue: "INVALID_PRIVATE_KEY")
    public static let invalidPublicKey = ProviderErrorCode(rawValue: "INVALID_PUBLIC_KEY")

    // --- The providers' own codes that PayBridge acts on.
    /// Amanpay: no payment with this id (A4).
    public static let transactionNotFound = ProviderErrorCode(rawValue: "TRANSACTION_NOT_FOUND")
    /// FirstPay: HTTP 404 (F4).
    public static let notFound = ProviderErrorCode(rawValue: "NOT_FOUND")
    /// FirstPay: HTTP 401 without an `ERROR` text.
    public static let unauthorized = ProviderErrorCode(rawValue: "UNAUTHORIZED")
    /// FirstPay: HTTP 403 without an `ERROR` text.
    public static let accessDenied = ProviderErrorCode(rawValue: "ACCESS_DENIED")
    /// FirstPay: HTTP 400.
    public static let badRequest = ProviderErrorCode(rawValue: "BAD_REQUEST")
    /// FirstPay: an SMS code sent for a payment that needs none.
    public static let smsNotRequired = ProviderErrorCode(rawValue: "SMS_NOT_REQUIRED")

    /// Whether a signature did not verify (a response's, a callback's or a postback's).
    public var isSignatureFailure: Bool {
        self == .invalidResponseSignature || self == .invalidCallbackSignature || self == .invalidPostbackSignature
    }
}
