import Amanpay
import Foundation
public import ProviderCore

/// Settings of a ``ProviderSandbox``. Defaults match the test data in `shared/providers/testdata`
/// (merchant 1758378, secret `s3cr3t`); keys are passed in as PEM text.
public struct ProviderSandboxConfiguration: Sendable {
    /// Bind host. Loopback only by default.
    public var host: String = "127.0.0.1"
    /// Bind port; 0 picks a free one (see ``ProviderSandbox/port``).
    public var port: Int = 0

    // Amanpay
    public var amanpayMerchantId: Int = 1_758_378
    public var amanpaySecretKey: Secret = "s3cr3t"
    /// More Amanpay merchants the sandbox serves besides ``amanpayMerchantId`` (merchant id → secret key), as a
    /// platform with several merchant accounts has them. Each merchant's requests must
    /// be signed with its own secret; its responses and callbacks are signed with it; a merchant sees only its own
    /// payments.
    public var amanpayMerchants: [Int: Secret] = [:]
    /// A2 field list used to sign responses and callbacks.
    public var amanpayResponseSignatureFields: [String] = AmanpaySignature.defaultResponseFields
    /// Default callback URL (A7); a payment's `notifyUrl` overrides it.
    public var amanpayCallbackURL: String?
    /// The OTP that `specify` accepts.
    public var amanpayOTP: String = "123456"

    // FirstPay
    /// F2: the FirstPay public key PEM exactly as issued; requests must carry it as `publicKey`.
    public var firstpayPublicKeyPEM: String
    /// Signs postbacks (F2).
    public var firstpayPrivateKeyPEM: Secret
    /// Verifies request `hash`es (F1).
    public var merchantPublicKeyPEM: String
    /// The registered default `postback_url`; a payment's `postBackUrl` overrides it.
    public var firstpayPostbackURL: String?
    /// More FirstPay merchants the sandbox serves besides the one of the keys above:
    /// each request is authenticated with the keys of the `publicKey` it carries, each payment's postbacks are
    /// signed with its merchant's key, and a merchant sees only its own payments.
    public var firstpayMerchants: [SandboxFirstPayMerchant] = []
    /// The SMS code that `sms` accepts.
    public var firstpaySMSCode: String = "1234"

    // Behaviour
    /// When set, every new payment without a scripted outcome moves to this final outcome after
    /// ``autoCompleteDelay`` (Amanpay: SUCCESS/FAILED/CANCELLED; FirstPay: SUCCESS/FAILED). `nil`: payments
    /// stay pending until a fault rule or the control API completes them.
    public var autoCompleteOutcome: String?
    /// Delay before an automatic or scripted outcome is applied. Default 0 (right after the response).
    public var autoCompleteDelay: Duration = .zero
    /// First delay between callback/postback delivery attempts; doubles up to ``callbackMaxRetryDelay``.
    public var callbackRetryDelay: Duration = .milliseconds(50)
    public var callbackMaxRetryDelay: Duration = .seconds(2)
    /// Delivery attempts per callback; `nil` retries until the sandbox stops (the providers' behaviour).
    public var callbackMaxAttempts: Int?
    /// Timeout of one callback delivery.
    public var callbackTimeout: Duration = .seconds(5)
    /// Received requests kept for ``ProviderSandbox/receivedRequests()``.
    public var maxRecordedRequests: Int = 20_000

    public init(
        firstpayPublicKeyPEM: String,
        firstpayPrivateKeyPEM: Secret,
        merchantPublicKeyPEM: String
    ) {
        self.firstpayPublicKeyPEM = firstpayPublicKeyPEM
        self.firstpayPrivateKeyPEM = firstpayPrivateKeyPEM
        self.merchantPublicKeyPEM = merchantPublicKeyPEM
    }

    /// Reads `firstpay_public.pem`, `firstpay_private.pem` and `merchant_public.pem` from a test data folder
    /// (`shared/providers/testdata`). TEST KEYS ONLY.
    public static func testKeys(directory: String) throws -> ProviderSandboxConfiguration {
        func read(_ name: String) throws -> String {
            try String(contentsOfFile: directory + "/" + name, encoding: .utf8)
        }
        return ProviderSandboxConfiguration(
            firstpayPublicKeyPEM: try read("firstpay_public.pem"),
            firstpayPrivateKeyPEM: Secret(try read("firstpay_private.pem")),
            merchantPublicKeyPEM: try read("merchant_public.pem"))
    }
}
