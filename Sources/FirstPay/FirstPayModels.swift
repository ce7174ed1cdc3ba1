public import PaymentVocabulary
import ProviderCore
public import StrictJSON

/// A FirstPay payment status, unknown values kept raw (firstpay.md §4).
public struct FirstPayStatus: Sendable, Hashable, RawRepresentable, CustomStringConvertible {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    public static let pending = FirstPayStatus(rawValue: "PENDING")
    public static let needCheck = FirstPayStatus(rawValue: "NEED_CHECK")
    public static let success = FirstPayStatus(rawValue: "SUCCESS")
    public static let failed = FirstPayStatus(rawValue: "FAILED")

    /// The unified status (firstpay.md §8); unknown values map to `unknown`.
    public var unified: PaymentStatus {
        switch self {
        case .pending: return .processing
        case .needCheck: return .underReview
        case .success: return .succeeded
        case .failed: return .failed
        default: return .unknown
        }
    }

    public var description: String { rawValue }
}

/// The Payment object with FirstPay's field names (firstpay.md §4). Decoding never fails on unknown values.
public struct FirstPayPayment: Sendable, Hashable {
    /// FirstPay's payment id; a string, or a number in the older format (F6).
    public var id: String?
    /// `currencyCode` or `currency` (F6).
    public var currencyCode: String?
    public var paymentMethodId: String?
    public var status: FirstPayStatus?
    public var amount: DecimalAmount?
    public var merchantPaymentId: String?
    public var merchantUserId: String?
    public var failedCode: String?
    public var postBackUrl: String?
    public var createdAt: String?
    /// F4: present when the method sends the customer to a payment system.
    public var redirectUrl: String?

    /// The parsed body these fields were read from (it becomes the event's `raw`).
    public var body: JSONValue?

    public init(json: JSONValue) {
        body = json
        id = json["id"]?.scalarText
        currencyCode = json["currencyCode"]?.stringValue ?? json["currency"]?.stringValue
        paymentMethodId = json["paymentMethodId"]?.scalarText
        status = json["status"]?.stringValue.map(FirstPayStatus.init(rawValue:))
        amount = json["amount"]?.scalarText.flatMap(DecimalAmount.init)
        merchantPaymentId = json["merchantPaymentId"]?.scalarText
        merchantUserId = json["merchantUserId"]?.scalarText
        failedCode = json["failedCode"]?.stringValue
        postBackUrl = json["postBackUrl"]?.stringValue
        createdAt = json["createdAt"]?.stringValue
        redirectUrl = json["redirectUrl"]?.stringValue
    }

    /// The fields events name beyond the common ones (``ProviderDetails``).
    public var details: ProviderDetails {
        var attachment: ProviderDetails.Attachment?
        if let object = body?["attachment"], object.objectMembers != nil {
            attachment = ProviderDetails.Attachment(id: ProviderDetails.text(object["id"]),
                                                    url: ProviderDetails.text(object["url"]))
        }
        return ProviderDetails(
            paymentMethodId: ProviderDetails.text(body?["paymentMethodId"]),
            merchantUserId: ProviderDetails.text(body?["merchantUserId"]),
            failedCode: ProviderDetails.text(body?["failedCode"]),
            providerCreatedAt: ProviderDetails.text(body?["createdAt"]), attachment: attachment)
    }

    /// The result published for this payment.
    public func result(operation: String, httpStatus: Int?, rawBody: String) -> ProviderResult {
        ProviderResult(
            provider: .firstpay, operation: operation, status: status?.unified ?? .unknown,
            providerStatus: status?.rawValue, providerPaymentId: id, merchantPaymentId: merchantPaymentId,
            amount: amount, currency: currencyCode,
            error: failedCode.map { OutcomeError(code: $0, message: "", errorClass: .declined) },
            redirectUrl: redirectUrl, httpStatus: httpStatus, rawBody: rawBody, rawJSON: body, details: details)
    }
}

/// One `{key, value}` of `clientFieldsValues`.
public struct FirstPayClientField: Sendable, Hashable {
    public var key: String
    public var value: String
    public init(key: String, value: String) {
        self.key = key
        self.value = value
    }
}

/// The pay_in / pay_out body (firstpay.md §3).
public struct FirstPayPaymentRequest: Sendable, Hashable {
    public var accountId: Int
    public var paymentMethodId: String
    /// Written as JavaScript prints the number (F5): `500.00` → `500`.
    public var amount: DecimalAmount
    public var clientFieldsValues: [FirstPayClientField]
    /// Always sent by PayBridge (F8).
    public var merchantPaymentId: String
    public var merchantUserId: String?
    public var successRedirectUrl: String?
    public var failureRedirectUrl: String?
    public var postBackUrl: String?
    public var attachmentId: String?

    public init(
        accountId: Int, paymentMethodId: String, amount: DecimalAmount, clientFieldsValues: [FirstPayClientField],
        merchantPaymentId: String, merchantUserId: String? = nil, successRedirectUrl: String? = nil,
        failureRedirectUrl: String? = nil, postBackUrl: String? = nil, attachmentId: String? = nil
    ) {
        self.accountId = accountId
        self.paymentMethodId = paymentMethodId
        self.amount = amount
        self.clientFieldsValues = clientFieldsValues
        self.merchantPaymentId = merchantPaymentId
        self.merchantUserId = merchantUserId
        self.successRedirectUrl = successRedirectUrl
        self.failureRedirectUrl = failureRedirectUrl
        self.postBackUrl = postBackUrl
        self.attachmentId = attachmentId
    }
}

/// `PAY_IN` or `PAY_OUT` (payment-method list filter).
public enum FirstPayPaymentType: String, Sendable, Hashable {
    case payIn = "PAY_IN"
    case payOut = "PAY_OUT"
}

/// The SMS confirmation answer (`{"isSucceed": true}`).
public struct FirstPaySMSConfirmation: Sendable, Hashable {
    public var isSucceed: Bool
    public var rawBody: String
}

/// Pinned and documented paths (F3); all configurable.
public struct FirstPayPaths: Sendable, Hashable {
    public var payIn = "/api/payments/v1/pay_in"
    public var payOut = "/api/payments/v1/pay_out"
    public var status = "/api/payments/v1/status"
    public var sms = "/api/payments/v1/sms"
    public var paymentMethods = "/api/payment_methods/v1"
    public init() {}
}
