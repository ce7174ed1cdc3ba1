import PaymentVocabulary

/// The eight pinned command kinds. Raw value = routing key on `payments.commands` = `<provider>.<operation>`.
///
/// The CloudEvents `type` is `paybridge.<provider>.<operation>.v1` (``type``); the JSON Schema is
/// `schemas/commands/<provider>.<operation>.v1.schema.json` (``schemaPath``).
public enum PaymentCommandKind: String, Sendable, Hashable, CaseIterable {
    case amanpayPurchase = "amanpay.purchase"
    case amanpayPayout = "amanpay.payout"
    case amanpayStatus = "amanpay.status"
    case amanpaySpecify = "amanpay.specify"
    case firstpayPayIn = "firstpay.pay_in"
    case firstpayPayOut = "firstpay.pay_out"
    case firstpayStatus = "firstpay.status"
    case firstpaySMS = "firstpay.sms"

    /// The provider (first routing-key segment).
    public var provider: Provider {
        switch self {
        case .amanpayPurchase, .amanpayPayout, .amanpayStatus, .amanpaySpecify: .amanpay
        case .firstpayPayIn, .firstpayPayOut, .firstpayStatus, .firstpaySMS: .firstpay
        }
    }

    /// The operation (second routing-key segment), e.g. `pay_in`.
    public var operation: String {
        switch self {  // literals, not a split of the raw value: this is read several times per command
        case .amanpayPurchase: "purchase"
        case .amanpayPayout: "payout"
        case .amanpayStatus: "status"
        case .amanpaySpecify: "specify"
        case .firstpayPayIn: "pay_in"
        case .firstpayPayOut: "pay_out"
        case .firstpayStatus: "status"
        case .firstpaySMS: "sms"
        }
    }

    /// The routing key on `payments.commands`, e.g. `firstpay.pay_in`.
    public var routingKey: String { rawValue }

    /// The CloudEvents type, e.g. `paybridge.firstpay.pay_in.v1`.
    public var type: String { "paybridge.\(rawValue).v1" }

    /// Path of the JSON Schema relative to `schemas/`.
    public var schemaPath: String { "commands/\(rawValue).v1.schema.json" }

    /// True for the operations that create a payment at the provider (subject to the status-first rule A5/F8).
    public var createsPayment: Bool {
        switch self {
        case .amanpayPurchase, .amanpayPayout, .firstpayPayIn, .firstpayPayOut: true
        default: false
        }
    }

    /// The kind for a CloudEvents type, or `nil` when PayBridge does not know the type.
    /// - Parameter type: e.g. `paybridge.amanpay.purchase.v1`.
    public init?(type: String) {
        guard type.hasPrefix("paybridge."), type.hasSuffix(".v1") else { return nil }
        self.init(rawValue: String(type.dropFirst("paybridge.".count).dropLast(".v1".count)))
    }

    /// The kind for a routing key, or `nil`.
    /// - Parameter routingKey: e.g. `amanpay.status`.
    public init?(routingKey: String) { self.init(rawValue: routingKey) }

    /// The kind for a provider and operation, or `nil`.
    public init?(provider: Provider, operation: String) { self.init(rawValue: "\(provider.rawValue).\(operation)") }
}
