import StrictJSON

/// What a provider said about one payment: the answer to a create/status/specify call, or a verified
/// callback/postback. The adapter publishes these fields in its events.
public struct ProviderResult: Sendable {
    /// `amanpay` or `firstpay`.
    public var provider: Provider
    /// `purchase`, `payout`, `status`, `specify`, `pay_in`, `pay_out`, `sms`, `callback`, `postback`.
    public var operation: String
    /// Unified status. `unknown` only after an unresolved ambiguous create.
    public var status: PaymentStatus
    /// The provider's status exactly as sent (unknown values kept raw), `nil` when none arrived.
    public var providerStatus: String?
    /// The provider's payment id (Amanpay `transactionId`, FirstPay `id`).
    public var providerPaymentId: String?
    /// The merchant's payment id (Amanpay `paymentId`/`paymentID`, FirstPay `merchantPaymentId`).
    public var merchantPaymentId: String?
    /// Amount as decimal text, as the provider wrote it (or as requested when it did not answer).
    public var amount: DecimalAmount?
    /// ISO 4217 code.
    public var currency: String?
    /// Error details when the provider reported one (a decline, a failure reason) or the outcome is unknown.
    public var error: OutcomeError?
    /// Where to send the customer, when the provider asked for it.
    public var redirectUrl: String?
    /// Names of data the provider asks for (Amanpay SPECIFICATION `additional_fields`).
    public var additionalFields: [String]?
    /// Amanpay `operationId` (needed for specify).
    public var operationId: String?
    /// HTTP status of the response that carried this result (`nil` for callbacks and unknown outcomes).
    public var httpStatus: Int?
    /// The provider's body exactly as received (empty when no body arrived).
    public var rawBody: String
    /// ``rawBody`` as the client already parsed it, when it was JSON: events carry it without parsing it again.
    public var rawJSON: JSONValue?
    /// The provider's fields beyond the common ones, as its client read them (``ProviderDetails``).
    public var details: ProviderDetails

    /// `true` when ``status`` is final (see ``PaymentStatus/isFinal``).
    public var isFinal: Bool { status.isFinal }

    public init(
        provider: Provider,
        operation: String,
        status: PaymentStatus,
        providerStatus: String? = nil,
        providerPaymentId: String? = nil,
        merchantPaymentId: String? = nil,
        amount: DecimalAmount? = nil,
        currency: String? = nil,
        error: OutcomeError? = nil,
        redirectUrl: String? = nil,
        additionalFields: [String]? = nil,
        operationId: String? = nil,
        httpStatus: Int? = nil,
        rawBody: String = "",
        rawJSON: JSONValue? = nil,
        details: ProviderDetails = ProviderDetails()
    ) {
        self.details = details
        self.provider = provider
        self.operation = operation
        self.status = status
        self.providerStatus = providerStatus
        self.providerPaymentId = providerPaymentId
        self.merchantPaymentId = merchantPaymentId
        self.amount = amount
        self.currency = currency
        self.error = error
        self.redirectUrl = redirectUrl
        self.additionalFields = additionalFields
        self.operationId = operationId
        self.httpStatus = httpStatus
        self.rawBody = rawBody
        self.rawJSON = rawJSON
    }
}
