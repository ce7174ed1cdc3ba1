public import ProviderCore

/// Settings of an ``AmanpayClient``. Its descriptions never show the secret key.
public struct AmanpayConfiguration: Sendable {
    /// Gateway base URL, no trailing slash. Default `https://gateway.amanpay.io`.
    public var baseURL: String
    /// Amanpay's merchant id.
    public var merchantId: Int
    /// The secret key appended to signed strings (A1, A2).
    public var secretKey: Secret
    /// A2: fields whose values sign responses and callbacks, in order. Default
    /// ``AmanpaySignature/defaultResponseFields``; a setting so a deployment can follow Amanpay's real rule.
    public var responseSignatureFields: [String]
    public var timeouts: TransportTimeouts
    public var retryPolicy: RetryPolicy
    public var circuitBreaker: CircuitBreakerConfiguration

    public init(
        baseURL: String = "https://gateway.amanpay.io",
        merchantId: Int,
        secretKey: Secret,
        responseSignatureFields: [String] = AmanpaySignature.defaultResponseFields,
        timeouts: TransportTimeouts = .init(),
        retryPolicy: RetryPolicy = .init(),
        circuitBreaker: CircuitBreakerConfiguration = .init()
    ) {
        var base = baseURL
        while base.hasSuffix("/") { base.removeLast() }
        self.baseURL = base
        self.merchantId = merchantId
        self.secretKey = secretKey
        self.responseSignatureFields = responseSignatureFields
        self.timeouts = timeouts
        self.retryPolicy = retryPolicy
        self.circuitBreaker = circuitBreaker
    }
}
