import ProviderCore
import StrictJSON

/// One provider request as the sandbox received it (control API: what was received).
public struct SandboxReceivedRequest: Sendable, Hashable {
    /// `amanpay` or `firstpay`.
    public var provider: String
    /// Operation name (see ``SandboxFault/operation``).
    public var operation: String
    public var path: String
    /// Amanpay `paymentId` or FirstPay `merchantPaymentId`/`paymentId` of the request, when it had one.
    public var paymentId: String?
    /// Whether the request's signature verified (A1 / F1).
    public var signatureValid: Bool
    /// The body as received.
    public var body: String
    /// The W3C `traceparent` header the request carried (PayBridge propagates its trace context to providers).
    public var traceparent: String? = nil
}

/// One callback/postback delivery attempt series.
public struct SandboxCallbackDelivery: Sendable, Hashable {
    public var provider: String
    public var url: String
    public var body: String
    /// HTTP statuses answered, one per attempt (0 = no answer).
    public var attempts: [Int]
    /// `true` once answered 2xx (Amanpay) / 200 (FirstPay).
    public var delivered: Bool
}

/// An Amanpay payment held by the sandbox.
public struct SandboxAmanpayPayment: Sendable, Hashable {
    public var transactionId: Int
    public var operationId: Int?
    public var paymentId: String
    /// `purchase` or `payout`.
    public var paymentType: String
    /// Two-decimal amount text (A3).
    public var amount: String
    public var currency: String
    public var status: String
    public var errorCode: String?
    public var errorMessage: String?
    public var notifyUrl: String?
    /// The merchant that created it (``ProviderSandboxConfiguration/amanpayMerchants``); `nil`: the default one.
    public var merchantId: Int?
    public var redirectUrl: String?
    public var customerName: String?
    public var customerAccountNumber: String?
    /// The `traceparent` of the request that created it: its callbacks carry it on, as a provider or gateway that
    /// propagates W3C trace context would.
    public var traceparent: String?
    var awaitingOTP = false
    var plannedOutcome: String?
    var plannedErrorCode: String?
    /// Whether the planned outcome sends its callback (``SandboxFault/notify``).
    var plannedNotify = true

    var isFinal: Bool { ["SUCCESS", "FAILED", "CANCELLED"].contains(status) }

    /// The response/callback object (amanpay.md §3), unsigned.
    func object(includeSpecification: Bool = true) -> JSONValue {
        var w = JSONObjectWriter()
        w.string("transactionId", String(transactionId))
        w.string("paymentID", paymentId)
        w.string("status", status)
        if status == "FAILED" {
            w.string("errorCode", errorCode ?? "GENERAL_ERROR")
            w.string("errorMessage", errorMessage ?? Self.message(for: errorCode ?? "GENERAL_ERROR"))
        }
        w.number("amount", text: amount)
        w.string("currency", currency)
        if status == "REDIRECT" { w.string("redirectUrl", redirectUrl) }
        w.string("paymentType", paymentType)
        if status == "SUCCESS" {
            w.string("customerName", customerName)
            w.string("customerAccountNumber", customerAccountNumber)
        }
        if status == "SPECIFICATION", includeSpecification, let operationId {
            w.number("operationId", text: String(operationId))
            w.value("additional_fields", .array([.string("Otp")]))
        }
        return w.object
    }

    /// The SPECIFICATION callback exactly as documented (A7): integers, no paymentID/amount/currency.
    func specificationCallback() -> JSONValue {
        .object([
            JSONMember("additional_fields", .array([.string("Otp")])),
            JSONMember("operationId", .number(JSONNumber(operationId ?? 0))),
            JSONMember("transactionId", .number(JSONNumber(transactionId))),
            JSONMember("status", .string("SPECIFICATION")),
        ])
    }

    static func message(for code: String) -> String {
        switch code {
        case "GENERAL_ERROR": return "An unexpected error occurred while processing your request"
        case "INSUFFICIENT_WALLET_BALANCE": return "Customer wallet lacks funds"
        case "INVALID_API_KEY": return "API key invalid or expired"
        case "TRANSACTION_NOT_FOUND": return "No transfer with that id"
        default: return code.lowercased().replacingOccurrences(of: "_", with: " ")
        }
    }
}

/// A FirstPay payment held by the sandbox.
public struct SandboxFirstPayPayment: Sendable, Hashable {
    public var id: String
    public var merchantPaymentId: String?
    public var merchantUserId: String?
    /// `pay_in` or `pay_out`.
    public var kind: String
    public var paymentMethodId: String
    /// Amount number text as received (F5).
    public var amount: String
    public var currencyCode: String
    public var status: String
    public var failedCode: String?
    public var postBackUrl: String?
    public var redirectUrl: String?
    public var createdAt: String
    /// The `publicKey` of the merchant that created it when it is one of
    /// ``ProviderSandboxConfiguration/firstpayMerchants``; `nil`: the default merchant.
    public var merchantPublicKey: String?
    var clientFieldsValues: JSONValue
    var smsRequired = false
    var plannedOutcome: String?
    var plannedFailedCode: String?
    /// Whether the planned outcome sends its postback (``SandboxFault/notify``).
    var plannedNotify = true

    /// The Payment object (firstpay.md §4), unsigned.
    func object(forPostback: Bool) -> [JSONMember] {
        var m: [JSONMember] = [
            JSONMember("id", .string(id)),
            JSONMember("currencyCode", .string(currencyCode)),
            JSONMember("paymentMethodId", .string(paymentMethodId)),
            JSONMember("status", .string(status)),
            JSONMember("amount", .number(JSONNumber(trusted: amount))),
            JSONMember("clientFieldsValues", clientFieldsValues),
        ]
        if let merchantPaymentId { m.append(JSONMember("merchantPaymentId", .string(merchantPaymentId))) }
        if let merchantUserId { m.append(JSONMember("merchantUserId", .string(merchantUserId))) }
        if forPostback || failedCode != nil {
            m.append(JSONMember("failedCode", failedCode.map { .string($0) } ?? .null))
        }
        if let postBackUrl { m.append(JSONMember("postBackUrl", .string(postBackUrl))) }
        m.append(JSONMember("createdAt", .string(createdAt)))
        if !forPostback, let redirectUrl { m.append(JSONMember("redirectUrl", .string(redirectUrl))) }
        return m
    }
}

/// Everything the sandbox keeps, behind one lock.
struct SandboxState: Sendable {
    var amanpayPurchases: [String: SandboxAmanpayPayment] = [:]
    var amanpayPayouts: [String: SandboxAmanpayPayment] = [:]
    var amanpayByTransaction: [Int: (type: String, paymentId: String)] = [:]
    var nextTransactionId = 62861
    var nextOperationId = 29609
    var firstpayById: [String: SandboxFirstPayPayment] = [:]
    var firstpayByMerchantId: [String: String] = [:]
    var nextFirstPayNumber = 1
    var received: [SandboxReceivedRequest] = []
    var faults: [SandboxFault] = []
    var deliveries: [SandboxCallbackDelivery] = []
    /// Merchant payment ids whose held create answer may go out (``SandboxFault/answerAfterCallback``).
    var releasedAnswers: Set<String> = []
    var amanpayCallbackURL: String?
    var firstpayPostbackURL: String?

    mutating func record(_ r: SandboxReceivedRequest, cap: Int) {
        if received.count >= cap { received.removeFirst(received.count / 2) }
        received.append(r)
    }

    /// Finds the rules for a request, consuming one use of each.
    mutating func takeFaults(provider: String, operation: String, paymentId: String?) -> FaultEffect {
        var effect = FaultEffect()
        guard !faults.isEmpty else { return effect }
        var i = 0
        while i < faults.count {
            if faults[i].matches(provider: provider, operation: operation, paymentId: paymentId) {
                effect.merge(faults[i])
                if let t = faults[i].times {
                    if t <= 1 {
                        faults.remove(at: i)
                        continue
                    }
                    faults[i].times = t - 1
                }
            }
            i += 1
        }
        return effect
    }

    func amanpay(type: String, paymentId: String) -> SandboxAmanpayPayment? {
        type == "payout" ? amanpayPayouts[paymentId] : amanpayPurchases[paymentId]
    }

    mutating func setAmanpay(_ p: SandboxAmanpayPayment) {
        if p.paymentType == "payout" { amanpayPayouts[p.paymentId] = p } else { amanpayPurchases[p.paymentId] = p }
        amanpayByTransaction[p.transactionId] = (p.paymentType, p.paymentId)
    }

    func firstpay(paymentId: String?, merchantPaymentId: String?) -> SandboxFirstPayPayment? {
        if let paymentId, let p = firstpayById[paymentId] { return p }
        if let merchantPaymentId, let id = firstpayByMerchantId[merchantPaymentId] { return firstpayById[id] }
        return nil
    }
}
