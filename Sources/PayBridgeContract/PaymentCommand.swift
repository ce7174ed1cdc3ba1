import PaymentVocabulary
import StrictJSON

/// A validated payment command.
public struct PaymentCommand: Sendable, Equatable {
    /// The command id (CloudEvents `id`): the idempotency key, and the `correlation_id` of its outcome events.
    public let id: String
    /// Which of the eight commands it is.
    public let kind: PaymentCommandKind
    /// CloudEvents `source`.
    public let source: String
    /// CloudEvents `time` (RFC 3339 text as sent).
    public let time: String
    /// The `data` object, valid against the kind's schema; amounts are decimal strings.
    public let data: JSONValue
    /// The whole envelope (extension attributes such as `traceparent` included).
    public let event: CloudEvent

    /// The provider.
    public var provider: Provider { kind.provider }
    /// The operation, e.g. `pay_in`.
    public var operation: String { kind.operation }
    /// The CloudEvents type.
    public var type: String { kind.type }
    /// The merchant's payment id when the command carries one (`paymentId` for Amanpay, `merchantPaymentId` for
    /// FirstPay; for FirstPay sms and status the optional `merchantPaymentId`).
    public var paymentId: String? { data[provider == .amanpay ? "paymentId" : "merchantPaymentId"]?.stringValue }

    /// The command's `data.amount` (a decimal string) and `data.currency`, when it has them: what the provider's
    /// answers are compared with (`data.amountMismatch`). FirstPay commands name no currency.
    public var amount: String? { data["amount"]?.stringValue }
    public var currency: String? { data["currency"]?.stringValue }

    /// The merchant account the command names in `data.account`; ``MerchantAccount/default``
    /// when absent. `nil` when the field is not a valid account name (the schema's pattern already refuses that).
    public var account: MerchantAccount? {
        guard let value = data["account"] else { return .default }
        return value.stringValue.flatMap { MerchantAccount($0) }
    }
}
