public import ProviderCore

/// One more FirstPay merchant the sandbox serves (``ProviderSandboxConfiguration/firstpayMerchants``), as a platform
/// with several FirstPay merchant accounts has them. TEST KEYS ONLY.
public struct SandboxFirstPayMerchant: Sendable {
    /// FirstPay's public key as issued to this merchant: its requests carry it as `publicKey` (F2), which is how
    /// the sandbox tells merchants apart.
    public var publicKeyPEM: String
    /// FirstPay's private key of this merchant: signs its postbacks.
    public var privateKeyPEM: Secret
    /// The merchant's public key: verifies its requests' `hash` (F1).
    public var merchantPublicKeyPEM: String

    public init(publicKeyPEM: String, privateKeyPEM: Secret, merchantPublicKeyPEM: String) {
        self.publicKeyPEM = publicKeyPEM
        self.privateKeyPEM = privateKeyPEM
        self.merchantPublicKeyPEM = merchantPublicKeyPEM
    }
}
