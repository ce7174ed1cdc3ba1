import PaymentVocabulary
import StrictJSON

/// The `data` of an outcome event (`payment.response`, `payment.callback`, `command.failed`).
///
/// Field names and meanings are those of `schemas/events/*.v1.schema.json`. Optional fields that are `nil` are
/// written as JSON `null` when the schema requires them and left out otherwise.
public struct PaymentOutcome: Sendable, Equatable {
    /// The command this answers; `nil` for callbacks and for commands whose id could not be read.
    public var commandId: String?
    /// The provider.
    public var provider: Provider
    /// The provider's merchant account the event is about, written as `data.account` when set.
    public var account: MerchantAccount?
    /// The operation (`purchase`, `pay_in`, …); `nil` when unknown (callbacks without a payment kind).
    public var operation: String?
    /// The merchant's payment id (Amanpay `paymentId`, FirstPay `merchantPaymentId`).
    public var paymentId: String?
    /// The provider's payment id (Amanpay `transactionId`, FirstPay `id`), as text.
    public var providerPaymentId: String?
    /// Amanpay `operationId` (needed for `amanpay.specify`), as text.
    public var providerOperationId: String?
    /// Unified status.
    public var status: PaymentStatus
    /// Whether `status` is an outcome that will not change (FirstPay may still correct succeeded ↔ failed).
    public var final: Bool
    /// The provider's own status text, unknown values kept raw.
    public var providerStatus: String?
    /// Amount as decimal text exactly as the provider wrote it (`JSONNumber.text` of the provider's number).
    public var amount: String?
    /// Currency code as the provider wrote it.
    public var currency: String?
    /// The error, when there is one.
    public var error: OutcomeError?
    /// Customer redirect URL, when the provider sent one.
    public var redirectUrl: String?
    /// Names of data the provider asks for (Amanpay `additional_fields`), when sent.
    public var additionalFields: [String]?
    /// How many provider calls PayBridge made for the command (not written for callbacks).
    public var attempts: Int?
    /// The provider's body as received, or `.null`. For a callback event: the callback or postback as received
    /// (evidence; the named fields come from ``statusRead`` when PayBridge could read the status).
    public var raw: JSONValue
    /// Named provider data beyond the common fields, written as top-level `data` members when present:
    /// FirstPay `paymentMethodId`, `merchantUserId`, `failedCode`, `attachment` ({`id`, `url`}) and its
    /// `createdAt` as `providerCreatedAt`; Amanpay `customerName`. See ``ProviderDetails``.
    public var providerDetails = ProviderDetails()
    /// The money PayBridge expected and the provider's, when they differ (`data.amountMismatch`); `nil` when they
    /// agree or there is nothing to compare. See ``AmountMismatch``.
    public var amountMismatch: AmountMismatch?

    /// An expected amount and currency against the provider's, when they are a different amount (compared as
    /// decimals: `250.5` = `250.50`) or a different currency (compared case-insensitively). What was expected comes
    /// from the command (responses to commands and reconciliation checks, written `command` / `commandCurrency`)
    /// or, on a callback event, from the callback's signed values (`callback` / `callbackCurrency`): PayBridge keeps
    /// no state, so it cannot know a callback's command.
    public struct AmountMismatch: Sendable, Hashable {
        /// Where the expected values come from.
        public enum Expected: String, Sendable, Hashable {
            case command
            case callback
        }
        public var expectedFrom: Expected
        /// The expected amount as it was written (the command's `data.amount`, the callback's `amount`), if any.
        public var expected: String?
        public var expectedCurrency: String?
        /// The provider's amount and currency as the provider wrote them.
        public var provider: String?
        public var providerCurrency: String?

        public init(expectedFrom: Expected = .command, expected: String?, expectedCurrency: String? = nil,
                    provider: String?, providerCurrency: String? = nil) {
            self.expectedFrom = expectedFrom
            self.expected = expected
            self.expectedCurrency = expectedCurrency
            self.provider = provider
            self.providerCurrency = providerCurrency
        }

        /// The mismatch between what was expected and what the provider named, or `nil` when they agree. Only
        /// values present on both sides are compared; an amount that is no decimal on either side is not compared.
        public static func between(
            expected: String?, expectedCurrency: String?, provider: String?, providerCurrency: String?,
            expectedFrom: Expected
        ) -> AmountMismatch? {
            var differs = false
            if let expected, let provider, let a = DecimalAmount(expected), let b = DecimalAmount(provider), a != b {
                differs = true
            }
            if let expectedCurrency, let providerCurrency,
                expectedCurrency.uppercased() != providerCurrency.uppercased() {
                differs = true
            }
            guard differs else { return nil }
            return AmountMismatch(expectedFrom: expectedFrom, expected: expected, expectedCurrency: expectedCurrency,
                                  provider: provider, providerCurrency: providerCurrency)
        }

        /// `data.amountMismatch`.
        public var jsonValue: JSONValue {
            var o: JSONObject = [:]
            let prefix = expectedFrom.rawValue
            if let expected { o[prefix] = .string(expected) }
            if let expectedCurrency { o[prefix + "Currency"] = .string(expectedCurrency) }
            if let provider { o["provider"] = .string(provider) }
            if let providerCurrency { o["providerCurrency"] = .string(providerCurrency) }
            return .object(o)
        }
    }
    /// Response events only: set when a reconciliation check found the status changed, not the
    /// command's own execution. Written as `data.reconciliation`.
    public var reconciliation: Reconciliation?

    /// Which scheduled status check observed a status.
    public struct Reconciliation: Sendable, Hashable {
        /// The check's number, 1-based.
        public var check: Int
        /// How many checks the schedule has.
        public var of: Int
        /// RFC 3339: when PayBridge published the outcome that left the payment open.
        public var openSince: String

        public init(check: Int, of: Int, openSince: String) {
            self.check = check
            self.of = of
            self.openSince = openSince
        }
    }

    /// Callback events only: how the named fields were established. `status_read`: an authenticated status read
    /// PayBridge made after the verified callback (``statusRead`` holds its body); `signature`: no status read
    /// was possible (an Amanpay callback without `paymentID`), the fields come from the callback's signed values.
    public var confirmedBy: String?
    /// Callback events confirmed by their signature only (an Amanpay SPECIFICATION callback): the values the
    /// callback carries that its signature does not cover (`providerOperationId`, `additionalFields`, `redirectUrl`,
    /// `errorCode`, `errorMessage`, `customerName`), written as `data.unverified`. They are never written as facts.
    public var unverified: JSONObject?
    /// Callback events only: the body of the status read that confirmed the callback.
    public var statusRead: JSONValue?
    /// Callback events only: the id PayBridge gave the callback when it received it (one per callback delivery;
    /// a provider's resend is a new notification). Part of the event id (`fact` = `notification:<id>`).
    public var notificationId: String?
    /// Callback events only: RFC 3339 time the callback endpoint received the callback (the event's `time` is when
    /// PayBridge observed the status it reports).
    public var receivedAt: String?

    /// Creates outcome data; see the properties for the meaning of each parameter.
    public init(
        commandId: String?, provider: Provider, account: MerchantAccount? = nil, operation: String?,
        paymentId: String? = nil,
        providerPaymentId: String? = nil, providerOperationId: String? = nil, status: PaymentStatus, final: Bool,
        providerStatus: String? = nil, amount: String? = nil, currency: String? = nil, error: OutcomeError? = nil,
        redirectUrl: String? = nil, additionalFields: [String]? = nil, attempts: Int? = nil, raw: JSONValue = .null,
        confirmedBy: String? = nil, statusRead: JSONValue? = nil, notificationId: String? = nil,
        receivedAt: String? = nil, providerDetails: ProviderDetails = ProviderDetails()
    ) {
        self.commandId = commandId
        self.provider = provider
        self.account = account
        self.operation = operation
        self.paymentId = paymentId
        self.providerPaymentId = providerPaymentId
        self.providerOperationId = providerOperationId
        self.status = status
        self.final = final
        self.providerStatus = providerStatus
        self.amount = amount
        self.currency = currency
        self.error = error
        self.redirectUrl = redirectUrl
        self.additionalFields = additionalFields
        self.attempts = attempts
        self.raw = raw
        self.confirmedBy = confirmedBy
        self.statusRead = statusRead
        self.notificationId = notificationId
        self.providerDetails = providerDetails
        self.receivedAt = receivedAt
    }

    /// The same outcome with `final` exactly ``PaymentStatus/isFinal`` of its status: the consumers' status rule
    /// reads `final`, so it never disagrees with `status` on an event.
    var withExactFinality: PaymentOutcome {
        var outcome = self
        outcome.final = status.isFinal
        return outcome
    }

    /// The event `data` object.
    /// - Parameter includeAttempts: whether to write ``attempts`` (not part of callback events).
    func jsonValue(includeAttempts: Bool = true) -> JSONValue {
        // Room for every member below up front: growing the array as members are added cost an allocation.
        var o = JSONObject()
        o.reserveCapacity(27 + providerDetails.fields.count)
        o["commandId"] = .stringOrNull(commandId)
        o["provider"] = .string(provider.rawValue)
        o["operation"] = .stringOrNull(operation)
        o["paymentId"] = .stringOrNull(paymentId)
        o["providerPaymentId"] = .stringOrNull(providerPaymentId)
        o["status"] = .string(status.rawValue)
        o["final"] = .bool(final)
        o["providerStatus"] = .stringOrNull(providerStatus)
        o["amount"] = .stringOrNull(amount)
        o["currency"] = .stringOrNull(currency)
        o["raw"] = raw
        if let account { o["account"] = .string(account.name) }
        if let providerOperationId { o["providerOperationId"] = .string(providerOperationId) }
        if let error { o["error"] = error.jsonValue }
        if let redirectUrl { o["redirectUrl"] = .string(redirectUrl) }
        if let additionalFields { o["additionalFields"] = .array(additionalFields.map(JSONValue.string)) }
        if includeAttempts, let attempts { o["attempts"] = .number(JSONNumber(attempts)) }
        for member in providerDetails.fields.members where o[member.key] == nil { o[member.key] = member.value }
        if let amountMismatch { o["amountMismatch"] = amountMismatch.jsonValue }
        if let reconciliation {
            o["reconciliation"] = .object([
                "check": .number(JSONNumber(reconciliation.check)), "of": .number(JSONNumber(reconciliation.of)),
                "openSince": .string(reconciliation.openSince),
            ])
        }
        if let confirmedBy { o["confirmedBy"] = .string(confirmedBy) }
        if let statusRead { o["statusRead"] = statusRead }
        if let unverified { o["unverified"] = .object(unverified) }
        if let notificationId { o["notificationId"] = .string(notificationId) }
        if let receivedAt { o["receivedAt"] = .string(receivedAt) }
        return .object(o)
    }
}
