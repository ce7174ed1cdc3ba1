/// How the caller should treat a failure (amanpay.md §5, firstpay.md §5).
///
/// A struct over a private enum rather than a public enum, so classes can be added later without
/// breaking callers' `switch` statements.
public struct RetryClass: Sendable, Hashable, CustomStringConvertible {
    private enum Base: String, Sendable, Hashable {
        case transient
        case configuration
        case declined = "final_decline"
        case invalidRequest = "invalid_request"
        case lookup
        case ambiguous
    }

    private let base: Base

    /// Retry with backoff (connection errors, timeouts, 5xx, 429, transient provider codes).
    public static let transient = RetryClass(base: .transient)
    /// Every command would fail (bad key or credentials): stop consuming, back off, alert. Not a decline.
    public static let configuration = RetryClass(base: .configuration)
    /// The provider declined the payment for good; never re-send the same merchant payment id.
    public static let declined = RetryClass(base: .declined)
    /// The request itself is wrong (bad amount, unparsable body, not this merchant's payment): fail the
    /// command, never re-send it unchanged.
    public static let invalidRequest = RetryClass(base: .invalidRequest)
    /// The payment does not exist (status lookups).
    public static let lookup = RetryClass(base: .lookup)
    /// The request may or may not have taken effect; the outcome is `unknown` (A5, F8).
    public static let ambiguous = RetryClass(base: .ambiguous)

    /// Stable text for events: `transient`, `configuration`, `final_decline`, `invalid_request`,
    /// `lookup`, `ambiguous`.
    public var rawValue: String { base.rawValue }

    public var description: String { base.rawValue }

    /// The class for the given raw value, if known.
    public init?(rawValue: String) {
        guard let base = Base(rawValue: rawValue) else { return nil }
        self.base = base
    }

    private init(base: Base) { self.base = base }
}

/// A failure of a provider call, safe to log: it never contains secrets, signatures or request bodies.
public struct ProviderError: Error, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// `amanpay` or `firstpay`.
    public var provider: String
    /// The operation that failed (`purchase`, `pay_in`, `status`, …).
    public var operation: String
    /// What the caller should do.
    public var errorClass: RetryClass
    /// The provider's error code (`INVALID_API_KEY`, `NOT_FOUND`, …) or one of PayBridge's own:
    /// `TIMEOUT`, `CONNECTION_ERROR`, `HTTP_<status>`, `INVALID_RESPONSE_SIGNATURE`, `MALFORMED_RESPONSE`,
    /// `CIRCUIT_OPEN`, `INVALID_REQUEST`.
    public var code: String
    /// A short human-readable message (the provider's text when it sent one).
    public var message: String
    /// The HTTP status, when a response arrived.
    public var httpStatus: Int?
    /// The provider's `Retry-After`, when it sent one.
    public var retryAfter: Duration?
    /// `true` when the request may have reached the provider (a timeout or a reset after sending, a 5xx).
    /// Creates that fail this way are reconciled by a status read (A5, F8).
    public var mayHaveReachedProvider: Bool
    /// How many attempts were made before giving up (1 when not retried).
    public var attempts: Int
    /// The response body, when one arrived (provider text; PayBridge never puts secrets in requests' bodies
    /// that could be echoed back, and this is not part of ``description``).
    public var rawBody: String?

    public init(
        provider: String,
        operation: String,
        errorClass: RetryClass,
        code: String,
        message: String,
        httpStatus: Int? = nil,
        retryAfter: Duration? = nil,
        mayHaveReachedProvider: Bool = false,
        attempts: Int = 1,
        rawBody: String? = nil
    ) {
        self.provider = provider
        self.operation = operation
        self.errorClass = errorClass
        self.code = code
        self.message = message
        self.httpStatus = httpStatus
        self.retryAfter = retryAfter
        self.mayHaveReachedProvider = mayHaveReachedProvider
        self.attempts = attempts
        self.rawBody = rawBody
    }

    /// `true` when the circuit breaker refused the call without sending anything.
    public var isCircuitOpen: Bool { code == "CIRCUIT_OPEN" }

    /// The `{code, message, class}` triple published in events.
    public var info: ProviderErrorInfo {
        ProviderErrorInfo(code: code, message: message, errorClass: errorClass)
    }

    public var description: String {
        var s = "\(provider) \(operation) failed: \(code) (\(errorClass))"
        if let httpStatus { s += ", HTTP \(httpStatus)" }
        if attempts > 1 { s += ", after \(attempts) attempts" }
        return s
    }

    public var debugDescription: String { description + ": \(message)" }
}

/// The error part of a result or event: `code`, `message`, `class`.
public struct ProviderErrorInfo: Sendable, Hashable {
    public var code: String
    public var message: String
    public var errorClass: RetryClass

    public init(code: String, message: String, errorClass: RetryClass) {
        self.code = code
        self.message = message
        self.errorClass = errorClass
    }
}
