public import PaymentVocabulary
import ProviderCore
public import StrictJSON

/// An Amanpay status, with unknown values kept raw (amanpay.md §4).
public struct AmanpayStatus: Sendable, Hashable, RawRepresentable, CustomStringConvertible {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    public static let pending = AmanpayStatus(rawValue: "PENDING")
    public static let redirect = AmanpayStatus(rawValue: "REDIRECT")
    public static let specification = AmanpayStatus(rawValue: "SPECIFICATION")
    public static let success = AmanpayStatus(rawValue: "SUCCESS")
    public static let failed = AmanpayStatus(rawValue: "FAILED")
    public static let cancelled = AmanpayStatus(rawValue: "CANCELLED")

    /// The unified status (amanpay.md §8). Unknown values map to `unknown`.
    public var unified: PaymentStatus {
        switch self {
        case .pending: return .processing
        case .redirect, .specification: return .requiresAction
        case .success: return .succeeded
        case .failed: return .failed
        case .cancelled: return .cancelled
        default: return .unknown
        }
    }

    public var description: String { rawValue }
}

/// Amanpay error codes and their retry class (amanpay.md §5). Unknown codes are kept raw.
public enum AmanpayErrorCode {
    /// final-decline codes.
    public static let declines: Set<String> = [
        "INVALID_CUSTOMER_ACCOUNT", "CUSTOMER_NOT_VERIFIED", "CUSTOMER_ACCOUNT_BLOCKED",
        "INSUFFICIENT_WALLET_BALANCE", "MIN_TRANSFER_AMOUNT_VIOLATION", "MAX_TRANSFER_AMOUNT_VIOLATION",
        "BLACKLISTED_CUSTOMER", "SELF_TRANSFER_NOT_ALLOWED", "CUSTOMER_COUNTRY_RESTRICTED", "TRANSFER_EXPIRED",
        "PAYMENT_CANCELLED_BY_CUSTOMER", "PAYMENT_NOT_COMPLETED_BY_CUSTOMER",
    ]
    /// lookup codes.
    public static let lookups: Set<String> = [transactionNotFound.rawValue, transferAlreadyCompleted.rawValue]
    /// The one code that says a payment does not exist (A6): the only answer after which A5 re-sends a create.
    public static let transactionNotFound = ProviderError.Code.transactionNotFound
    /// "Already processed successfully": re-read the status and adopt it; never a failure (§5 lookup).
    public static let transferAlreadyCompleted = ProviderError.Code(rawValue: "TRANSFER_ALREADY_COMPLETED")
    /// configuration codes.
    public static let configuration: Set<String> = ["INVALID_API_KEY"]
    /// transient codes.
    public static let transient: Set<String> = ["GENERAL_ERROR", "CUSTOMER_BANK_UNREACHABLE"]

    /// Every documented code.
    public static var all: Set<String> { declines.union(lookups).union(configuration).union(transient) }

    /// The retry class of a code. Unknown codes on a FAILED payment are treated as final declines: the
    /// provider said FAILED, and re-sending the same `paymentId` is never safe.
    public static func retryClass(of code: String) -> ErrorClass {
        if declines.contains(code) { return .declined }
        if lookups.contains(code) { return .notFound }
        if configuration.contains(code) { return .configuration }
        if transient.contains(code) { return .transient }
        return .declined
    }

    /// The class published for `code` on a payment object whose status is `status`. On a FAILED payment the
    /// payment is over (§4: FAILED is final), so a transient code there (`GENERAL_ERROR`,
    /// `CUSTOMER_BANK_UNREACHABLE`) is `declined`, as §5 says of a final FAILED callback: a transient class would
    /// tell consumers to wait for a payment that cannot change. Other statuses keep the code's own class.
    public static func errorClass(of code: String, onStatus status: AmanpayStatus?) -> ErrorClass {
        let cls = retryClass(of: code)
        return status == .failed && cls == .transient ? .declined : cls
    }

    /// Whether a status read's error says the payment does not exist, so a re-send is safe (A5, A6): only
    /// `TRANSACTION_NOT_FOUND`. Any other failure of the read leaves the create's outcome open.
    public static func isPaymentNotFound(_ error: ProviderError) -> Bool {
        error.code == transactionNotFound && error.errorClass == .notFound
    }
}

/// A response or callback body with Amanpay's field names (amanpay.md §3). Decoding never fails on
/// unknown statuses, codes or extra fields.
public struct AmanpayPaymentObject: Sendable, Hashable {
    /// Amanpay's payment id; a JSON string or integer (A8).
    public var transactionId: String?
    /// Amanpay's operation id; a string or integer, usually absent (A7).
    public var operationId: String?
    /// The merchant's `paymentId` (`paymentID` or `paymentId`, A8).
    public var paymentID: String?
    public var status: AmanpayStatus?
    public var errorCode: String?
    public var errorMessage: String?
    /// Decimal amount (A3), as written.
    public var amount: DecimalAmount?
    public var currency: String?
    public var paymentType: String?
    public var customerName: String?
    public var customerAccountNumber: String?
    public var redirectUrl: String?
    /// `additional_fields` or `additionalFields` (A8).
    public var additionalFields: [String]?

    /// The parsed body these fields were read from (it becomes the event's `raw`).
    public var body: JSONValue?

    /// Reads the fields from a parsed body.
    public init(json: JSONValue) {
        body = json
        transactionId = json["transactionId"]?.scalarText
        operationId = json["operationId"]?.scalarText
        paymentID = json["paymentID"]?.scalarText ?? json["paymentId"]?.scalarText
        status = json["status"]?.stringValue.map(AmanpayStatus.init(rawValue:))
        errorCode = json["errorCode"]?.stringValue
        errorMessage = json["errorMessage"]?.stringValue
        amount = json["amount"]?.scalarText.flatMap(DecimalAmount.init)
        currency = json["currency"]?.stringValue
        paymentType = json["paymentType"]?.stringValue
        customerName = json["customerName"]?.stringValue
        customerAccountNumber = json["customerAccountNumber"]?.stringValue
        redirectUrl = json["redirectUrl"]?.stringValue
        let fields = json["additional_fields"] ?? json["additionalFields"]
        additionalFields = fields?.arrayElements?.compactMap { $0.scalarText }
    }

    /// `true` when the body names a payment, which puts it in A2's scope.
    public var identifiesPayment: Bool { transactionId != nil || paymentID != nil }

    /// The result published for this object.
    public func result(operation: String, httpStatus: Int?, rawBody: String) -> ProviderResult {
        let unified = status?.unified ?? .unknown
        var error: OutcomeError?
        if let errorCode {
            error = OutcomeError(
                code: errorCode, message: errorMessage ?? "",
                errorClass: AmanpayErrorCode.errorClass(of: errorCode, onStatus: status))
        }
        return ProviderResult(
            provider: .amanpay, operation: operation, status: unified, providerStatus: status?.rawValue,
            providerPaymentId: transactionId, merchantPaymentId: paymentID, amount: amount, currency: currency,
            error: error, redirectUrl: redirectUrl, additionalFields: additionalFields, operationId: operationId,
            httpStatus: httpStatus, rawBody: rawBody, rawJSON: body,
            details: ProviderDetails(customerName: ProviderDetails.text(body?["customerName"])))
    }
}

/// Payment methods (amanpay.md §1).
public struct AmanpayPaymentMethod: Sendable, Hashable, RawRepresentable {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    public static let bkash = AmanpayPaymentMethod(rawValue: "bkash")
    public static let nagad = AmanpayPaymentMethod(rawValue: "nagad")
    public static let jazzcash = AmanpayPaymentMethod(rawValue: "jazzcash")
    public static let easypaisa = AmanpayPaymentMethod(rawValue: "easypaisa")

    /// The body field of this method's wallet number (`bkashNumber`, …).
    public var walletNumberField: String { rawValue + "Number" }
}

/// `POST /payments/purchases/initiate` (amanpay.md §2).
public struct AmanpayPurchaseRequest: Sendable, Hashable {
    public var paymentId: String
    public var amount: DecimalAmount
    public var currency: String
    public var customerEmail: String
    public var customerId: String?
    public var customerName: String?
    /// `verified` or `basic`.
    public var customerKYCLevel: String?
    public var paymentMethod: AmanpayPaymentMethod?
    /// The wallet number for `paymentMethod` (sent as `<method>Number`, signed by A1).
    public var walletNumber: String?
    public var returnUrl: String?
    /// Callback URL for this payment only (A7).
    public var notifyUrl: String?
    /// Fields Amanpay may accept beyond the documented ones ("more fields may exist"), sent after them as given,
    /// unsigned (A1 signs only its listed fields). Names the request writes itself are skipped.
    public var additionalFields: [JSONMember]

    public init(
        paymentId: String, amount: DecimalAmount, currency: String, customerEmail: String,
        customerId: String? = nil, customerName: String? = nil, customerKYCLevel: String? = nil,
        paymentMethod: AmanpayPaymentMethod? = nil, walletNumber: String? = nil, returnUrl: String? = nil,
        notifyUrl: String? = nil, additionalFields: [JSONMember] = []
    ) {
        self.additionalFields = additionalFields
        self.paymentId = paymentId
        self.amount = amount
        self.currency = currency
        self.customerEmail = customerEmail
        self.customerId = customerId
        self.customerName = customerName
        self.customerKYCLevel = customerKYCLevel
        self.paymentMethod = paymentMethod
        self.walletNumber = walletNumber
        self.returnUrl = returnUrl
        self.notifyUrl = notifyUrl
    }
}

/// `POST /payments/payouts/initiate` (amanpay.md §2).
public struct AmanpayPayoutRequest: Sendable, Hashable {
    public var paymentId: String
    public var amount: DecimalAmount
    public var currency: String
    public var customerEmail: String
    public var customerName: String
    public var paymentMethod: AmanpayPaymentMethod
    /// Recipient account kind (values start `bank_`).
    public var recipientType: String
    /// Signed by A1 (`""` when absent).
    public var recipientMobileNumber: String?
    public var customerId: String?
    public var customerKYCLevel: String?
    /// Browser target after the payout's page, where the method has one.
    public var returnUrl: String?
    public var notifyUrl: String?
    /// As ``AmanpayPurchaseRequest/additionalFields``.
    public var additionalFields: [JSONMember]

    public init(
        paymentId: String, amount: DecimalAmount, currency: String, customerEmail: String, customerName: String,
        paymentMethod: AmanpayPaymentMethod, recipientType: String, recipientMobileNumber: String? = nil,
        customerId: String? = nil, customerKYCLevel: String? = nil, returnUrl: String? = nil,
        notifyUrl: String? = nil, additionalFields: [JSONMember] = []
    ) {
        self.returnUrl = returnUrl
        self.additionalFields = additionalFields
        self.paymentId = paymentId
        self.amount = amount
        self.currency = currency
        self.customerEmail = customerEmail
        self.customerName = customerName
        self.paymentMethod = paymentMethod
        self.recipientType = recipientType
        self.recipientMobileNumber = recipientMobileNumber
        self.customerId = customerId
        self.customerKYCLevel = customerKYCLevel
        self.notifyUrl = notifyUrl
    }
}

/// Purchase or payout, for status reads.
public enum AmanpayPaymentType: String, Sendable, Hashable {
    case purchase
    case payout
}

/// `POST /merchants/balance` answer.
public struct AmanpayBalance: Sendable, Hashable {
    public struct Entry: Sendable, Hashable {
        public var currency: String
        public var amount: DecimalAmount
    }

    public var merchantId: String?
    public var balances: [Entry]
    public var resultCode: String?
    public var resultMessage: String?
    public var rawBody: String
}
