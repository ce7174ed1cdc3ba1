/// A deterministic behaviour rule for the sandbox, matched against incoming provider requests.
///
/// A rule matches by provider, operation and merchant payment id (each `nil` = any) and applies to the
/// next `times` matching requests (`nil` = all). Several rules can match one request; their effects combine.
/// Add rules with ``ProviderSandbox/addFault(_:)`` or `POST /_sandbox/faults` (this struct as JSON).
public struct SandboxFault: Sendable, Codable, Hashable {
    /// `amanpay` or `firstpay`; `nil` matches both.
    public var provider: String?
    /// Amanpay: `purchase`, `payout`, `status`, `specify`, `balance`. FirstPay: `pay_in`, `pay_out`, `status`,
    /// `sms`, `payment_methods`. `nil` matches all.
    public var operation: String?
    /// Amanpay `paymentId` or FirstPay `merchantPaymentId` of the request; `nil` matches all.
    public var paymentId: String?
    /// How many matching requests the rule applies to; `nil` means every one.
    public var times: Int?

    /// Wait this long before handling the request.
    public var latencyMs: Int?
    /// Answer with this HTTP status (e.g. 500, 503, 429) without processing the request.
    public var httpStatus: Int?
    /// `Retry-After` seconds sent with ``httpStatus``.
    public var retryAfterSeconds: Int?
    /// Process the request (a create does create the payment), then wait this long before answering: a
    /// hang past the client's timeout, i.e. an ambiguous create.
    public var hangAfterProcessingMs: Int?
    /// Sign the response wrongly (Amanpay: wrong secret; FirstPay: a `hash` that does not verify).
    public var badSignature: Bool?
    /// Answer with this provider error. Amanpay: an `errorCode` from amanpay.md §5 (declines create a FAILED
    /// payment; `GENERAL_ERROR`/`CUSTOMER_BANK_UNREACHABLE` fail without creating it). FirstPay: an `error`
    /// of firstpay.md §5 (`NO_LOGIN`, `NO_TOKEN`, `NO_KEY`, `UNAUTHORIZED` → 401, `NOT_FOUND` → 404,
    /// `ACCESS_DENIED` → 403, `SMS_NOT_REQUIRED` or other text → 400).
    public var errorCode: String?
    /// Status a created payment starts in (Amanpay `REDIRECT`/`SPECIFICATION`/`PENDING`; FirstPay
    /// `PENDING`/`NEED_CHECK`).
    public var initialStatus: String?
    /// Final outcome a created payment moves to after the response (Amanpay `SUCCESS`/`FAILED`/`CANCELLED`,
    /// FirstPay `SUCCESS`/`FAILED`), with a callback/postback. `NONE`: the payment never moves on by itself (not
    /// even with the sandbox's auto-complete).
    public var outcome: String?
    /// `errorCode` (Amanpay) or `failedCode` (FirstPay) of a FAILED ``outcome``.
    public var outcomeErrorCode: String?
    /// FirstPay: the payment needs an SMS confirmation before its outcome.
    public var requireSMS: Bool?
    /// `false`: the payment's ``outcome`` (or the sandbox's auto-complete) happens without a callback or postback,
    /// a callback that never comes: only a status read finds it out.
    public var notify: Bool?
    /// Amanpay creates: a slow gateway that sends the callback before it answers the create. The payment reaches
    /// its planned ``outcome`` (with its callback) at once, and the answer — the state at creation, e.g. `REDIRECT`
    /// — is held until ``ProviderSandbox/releaseAnswer(paymentId:)`` (`POST /_sandbox/answers/{paymentId}/release`)
    /// or ``ProviderSandbox/maximumHeldAnswer`` passes.
    public var answerAfterCallback: Bool?

    public init(
        provider: String? = nil, operation: String? = nil, paymentId: String? = nil, times: Int? = nil,
        latencyMs: Int? = nil, httpStatus: Int? = nil, retryAfterSeconds: Int? = nil,
        hangAfterProcessingMs: Int? = nil, badSignature: Bool? = nil, errorCode: String? = nil,
        initialStatus: String? = nil, outcome: String? = nil, outcomeErrorCode: String? = nil,
        requireSMS: Bool? = nil, notify: Bool? = nil, answerAfterCallback: Bool? = nil
    ) {
        self.provider = provider
        self.operation = operation
        self.paymentId = paymentId
        self.times = times
        self.latencyMs = latencyMs
        self.httpStatus = httpStatus
        self.retryAfterSeconds = retryAfterSeconds
        self.hangAfterProcessingMs = hangAfterProcessingMs
        self.badSignature = badSignature
        self.errorCode = errorCode
        self.initialStatus = initialStatus
        self.outcome = outcome
        self.outcomeErrorCode = outcomeErrorCode
        self.requireSMS = requireSMS
        self.notify = notify
        self.answerAfterCallback = answerAfterCallback
    }

    func matches(provider: String, operation: String, paymentId: String?) -> Bool {
        if let p = self.provider, p != provider { return false }
        if let o = self.operation, o != operation { return false }
        if let id = self.paymentId, id != paymentId { return false }
        return true
    }
}

/// The combined effect of the rules that matched one request.
struct FaultEffect: Sendable {
    var latencyMs = 0
    var httpStatus: Int?
    var retryAfterSeconds: Int?
    var hangAfterProcessingMs = 0
    var badSignature = false
    var errorCode: String?
    var initialStatus: String?
    var outcome: String?
    var outcomeErrorCode: String?
    var requireSMS = false
    var notify = true
    var answerAfterCallback = false

    /// The outcome a new payment is planned to reach, if any (``SandboxFault/outcome`` `NONE`: none).
    func plannedOutcome(autoComplete: String?) -> String? {
        let planned = outcome ?? autoComplete
        return planned == "NONE" ? nil : planned
    }

    mutating func merge(_ f: SandboxFault) {
        latencyMs += f.latencyMs ?? 0
        httpStatus = httpStatus ?? f.httpStatus
        retryAfterSeconds = retryAfterSeconds ?? f.retryAfterSeconds
        hangAfterProcessingMs += f.hangAfterProcessingMs ?? 0
        badSignature = badSignature || (f.badSignature ?? false)
        errorCode = errorCode ?? f.errorCode
        initialStatus = initialStatus ?? f.initialStatus
        outcome = outcome ?? f.outcome
        outcomeErrorCode = outcomeErrorCode ?? f.outcomeErrorCode
        requireSMS = requireSMS || (f.requireSMS ?? false)
        notify = notify && (f.notify ?? true)
        answerAfterCallback = answerAfterCallback || (f.answerAfterCallback ?? false)
    }
}
