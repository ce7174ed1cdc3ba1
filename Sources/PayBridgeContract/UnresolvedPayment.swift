import PaymentVocabulary
import StrictJSON

/// The `data` of `paybridge.payment.unresolved.v1` ("reconciliation"): a payment PayBridge left open
/// (`requires_action`, `processing`, `under_review`, `unknown`) that was still open, or could not be read, when its
/// last scheduled status check ran. Someone has to look at it.
///
/// Field names and meanings are those of `schemas/events/payment.unresolved.v1.schema.json`.
public struct UnresolvedPayment: Sendable, Equatable {
    /// The command that left the payment open.
    public var commandId: String
    public var provider: Provider
    /// The provider's merchant account, written as `data.account` when set.
    public var account: MerchantAccount?
    /// The command's operation (`purchase`, `payout`, `pay_in`, `pay_out`).
    public var operation: String
    /// The merchant's payment id.
    public var paymentId: String
    /// The provider's payment id, when PayBridge learned it.
    public var providerPaymentId: String?
    /// What the last check read (never final), or `unknown` when that read failed (``lastCheckError``): a stale
    /// observation must never move a payment in a consumer's projection.
    public var status: PaymentStatus
    /// The provider's own text for it.
    public var providerStatus: String?
    /// When the last read failed: the last status PayBridge did observe, and the provider's text for it
    /// (`data.lastObservedStatus`, `data.lastObservedProviderStatus`).
    public var lastObservedStatus: PaymentStatus?
    public var lastObservedProviderStatus: String?
    /// How many status checks were scheduled (the schedule's length when the last one ran).
    public var checks: Int
    /// RFC 3339: when PayBridge published the outcome that left the payment open.
    public var openSince: String
    /// What went wrong with the last check, when its status read failed (`nil` when the provider answered).
    public var lastCheckError: OutcomeError?
    /// `PAYBRIDGE_RECONCILE_SCHEDULE` as the worker that gave up had it, e.g. `1m,5m,15m,1h,6h,1d`.
    public var schedule: String

    public init(
        commandId: String, provider: Provider, operation: String, paymentId: String, providerPaymentId: String?,
        status: PaymentStatus, providerStatus: String?, checks: Int, openSince: String,
        lastCheckError: OutcomeError?, schedule: String
    ) {
        self.commandId = commandId
        self.provider = provider
        self.operation = operation
        self.paymentId = paymentId
        self.providerPaymentId = providerPaymentId
        self.status = status
        self.providerStatus = providerStatus
        self.checks = checks
        self.openSince = openSince
        self.lastCheckError = lastCheckError
        self.schedule = schedule
    }

    /// The event `data` object.
    func jsonValue() -> JSONValue {
        var o: JSONObject = [
            "commandId": .string(commandId),
            "provider": .string(provider.rawValue),
            "operation": .string(operation),
            "paymentId": .string(paymentId),
            "providerPaymentId": .stringOrNull(providerPaymentId),
            "status": .string(status.rawValue),
            "final": .bool(false),
            "providerStatus": .stringOrNull(providerStatus),
            "checks": .number(JSONNumber(checks)),
            "openSince": .string(openSince),
            "schedule": .string(schedule),
        ]
        if let account { o["account"] = .string(account.name) }
        if let lastCheckError { o["lastCheckError"] = lastCheckError.jsonValue }
        if let lastObservedStatus { o["lastObservedStatus"] = .string(lastObservedStatus.rawValue) }
        if let lastObservedProviderStatus { o["lastObservedProviderStatus"] = .string(lastObservedProviderStatus) }
        return .object(o)
    }
}
