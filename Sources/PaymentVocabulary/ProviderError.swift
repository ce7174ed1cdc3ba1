/// A failure of a provider call, safe to log: it never contains secrets, signatures or request bodies.
public struct ProviderError: Error, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// `amanpay` or `firstpay`.
    public var provider: Provider
    /// The operation that failed (`purchase`, `pay_in`, `status`, …).
    public var operation: String
    /// What the caller should do.
    public var errorClass: ErrorClass
    /// The provider's error code (`INVALID_API_KEY`, `NOT_FOUND`, …) or one of PayBridge's own (``Code``).
    public var code: Code
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
        provider: Provider,
        operation: String,
        errorClass: ErrorClass,
        code: Code,
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
    public var isCircuitOpen: Bool { code == .circuitOpen }

    /// The `{code, message, class}` triple published in events.
    public var info: OutcomeError {
        OutcomeError(code: code.rawValue, message: message, errorClass: errorClass)
    }

    public var description: String {
        var s = "\(provider) \(operation) failed: \(code) (\(errorClass))"
        if let httpStatus { s += ", HTTP \(httpStatus)" }
        if attempts > 1 { s += ", after \(attempts) attempts" }
        return s
    }

    public var debugDescription: String { description + ": \(message)" }
}

