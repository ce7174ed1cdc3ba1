public import ProviderCore

/// Settings of a ``FirstPayClient``. Its descriptions never show the private key.
public struct FirstPayConfiguration: Sendable {
    /// Host issued per environment, no trailing slash.
    public var baseURL: String
    /// F2: the FirstPay public key PEM exactly as issued (whole file, newlines included). Sent as
    /// `publicKey` in every request and used to verify postbacks.
    public var publicKeyPEM: String
    /// The merchant's RSA private key PEM (F1), used only to sign requests.
    public var merchantPrivateKeyPEM: Secret
    public var paths: FirstPayPaths
    public var canonicalizer: any FirstPayCanonicalizer
    public var timeouts: TransportTimeouts
    public var retryPolicy: RetryPolicy
    public var circuitBreaker: CircuitBreakerConfiguration

    public init(
        baseURL: String,
        publicKeyPEM: String,
        merchantPrivateKeyPEM: Secret,
        paths: FirstPayPaths = .init(),
        canonicalizer: any FirstPayCanonicalizer = JavaScriptTemplateCanonicalizer(),
        timeouts: TransportTimeouts = .init(),
        retryPolicy: RetryPolicy = .init(),
        circuitBreaker: CircuitBreakerConfiguration = .init()
    ) {
        var base = baseURL
        while base.hasSuffix("/") { base.removeLast() }
        self.baseURL = base
        self.publicKeyPEM = publicKeyPEM
        self.merchantPrivateKeyPEM = merchantPrivateKeyPEM
        self.paths = paths
        self.canonicalizer = canonicalizer
        self.timeouts = timeouts
        self.retryPolicy = retryPolicy
        self.circuitBreaker = circuitBreaker
    }
}
