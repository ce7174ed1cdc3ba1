import FirstPay
import Hummingbird
import NIOCore
import ProviderCore
import StrictJSON

/// FirstPay side of the sandbox (firstpay.md §3–§6, F1–F8).
extension ProviderSandbox {
    func addFirstPayRoutes(to router: Router<BasicRequestContext>) {
        router.post("/api/payments/v1/pay_in") { request, _ in try await self.firstpayCreate(request, kind: "pay_in") }
        router.post("/api/payments/v1/pay_out") { request, _ in try await self.firstpayCreate(request, kind: "pay_out") }
        router.post("/api/payments/v1/status") { request, _ in try await self.firstpayStatus(request) }
        router.post("/api/payments/v1/sms") { request, _ in try await self.firstpaySMS(request) }
        router.post("/api/payment_methods/v1") { request, _ in try await self.firstpayMethods(request, id: nil) }
        router.post("/api/payment_methods/v1/:id") { request, context in
            try await self.firstpayMethods(request, id: context.parameters.get("id"))
        }
    }

    /// F1/F2 request authentication, answering FirstPay's own 401s (firstpay.md §5).
    private func authenticate(_ json: JSONValue) -> Response? {
        guard let publicKey = json["publicKey"]?.stringValue else { return fpError(401, "NO_LOGIN") }
        guard let hash = json["hash"]?.stringValue else { return fpError(401, "NO_TOKEN") }
        guard let verifier = firstpayMerchantKeys[publicKey]?.verifier else { return fpError(401, "NO_KEY") }
        let members = json.objectMembers!.filter { $0.key != "hash" }
        guard verifier.verify(hash: hash, canonical: verifier.canonicalizer.canonicalString(of: members))
        else { return fpError(401, "UNAUTHORIZED") }
        return nil
    }

    /// Reads, records and authenticates a request; applies early faults.
    private func firstpayPrologue(
        _ request: Request, operation: String, paymentIdField: String = "merchantPaymentId"
    ) async throws -> (JSONValue, FaultEffect, Response?) {
        let (json, text) = try await readJSON(request)
        guard let json else {
            record("firstpay", operation, request, paymentId: nil, valid: false, body: text)
            return (.null, FaultEffect(), fpError(400, "Unexpected token in JSON body"))
        }
        let paymentId = json[paymentIdField]?.scalarText ?? json["paymentId"]?.scalarText
        let authError = authenticate(json)
        record("firstpay", operation, request, paymentId: paymentId, valid: authError == nil, body: text)
        let effect = takeFaults("firstpay", operation, paymentId)
        if let early = try await applyEarlyFaults(effect, provider: "firstpay") { return (json, effect, early) }
        if let authError { return (json, effect, authError) }
        if let code = effect.errorCode { return (json, effect, fpError(Self.fpStatus(for: code), code)) }
        return (json, effect, nil)
    }

    static func fpStatus(for code: String) -> Int {
        switch code {
        case "NO_LOGIN", "NO_TOKEN", "NO_KEY", "UNAUTHORIZED": return 401
        case "NOT_FOUND": return 404
        case "ACCESS_DENIED": return 403
        default: return 400
        }
    }

    private func firstpayCreate(_ request: Request, kind: String) async throws -> Response {
        let (json, effect, early) = try await firstpayPrologue(request, operation: kind)
        if let early { return early }
        guard json["accountId"]?.numberText != nil, let methodId = json["paymentMethodId"]?.stringValue,
            let amountText = json["amount"]?.numberText, let fields = json["clientFieldsValues"],
            fields.arrayElements != nil
        else {
            return fpError(400, "accountId, paymentMethodId, amount and clientFieldsValues are required")
        }
        let merchantPaymentId = json["merchantPaymentId"]?.scalarText
        let merchant = firstpayMerchant(json)
        let payment: SandboxFirstPayPayment = state.withLock { s in
            if let merchantPaymentId, let existing = s.firstpay(paymentId: nil, merchantPaymentId: merchantPaymentId),
                existing.merchantPublicKey == merchant
            {
                return existing  // merchantPaymentId is unique per merchant (F8): the same payment.
            }
            let n = s.nextFirstPayNumber
            s.nextFirstPayNumber += 1
            let id = Self.uuidLike(n, prefix: instancePrefix)
            var p = SandboxFirstPayPayment(
                id: id, merchantPaymentId: merchantPaymentId, merchantUserId: json["merchantUserId"]?.scalarText,
                kind: kind, paymentMethodId: methodId, amount: amountText,
                currencyCode: Self.currency(forMethod: methodId), status: effect.initialStatus ?? "PENDING",
                postBackUrl: json["postBackUrl"]?.stringValue, createdAt: iso8601Now(), clientFieldsValues: fields)
            if json["successRedirectUrl"] != nil { p.redirectUrl = "\(baseURL)/checkout/\(id)" }  // F4
            p.merchantPublicKey = merchant
            p.smsRequired = effect.requireSMS
            p.plannedOutcome = effect.plannedOutcome(autoComplete: configuration.autoCompleteOutcome)
            p.plannedNotify = effect.notify
            p.plannedFailedCode = effect.outcomeErrorCode
            s.firstpayById[id] = p
            if let merchantPaymentId { s.firstpayByMerchantId[merchantPaymentId] = id }
            return p
        }
        if payment.plannedOutcome != nil, !payment.smsRequired, payment.status != "SUCCESS", payment.status != "FAILED" {
            scheduleOutcome(provider: "firstpay", type: kind, paymentId: payment.merchantPaymentId ?? payment.id)
        }
        let response = paymentResponse(payment, bad: effect.badSignature)
        if effect.hangAfterProcessingMs > 0 { try await Task.sleep(for: .milliseconds(effect.hangAfterProcessingMs)) }
        return response
    }

    private func firstpayStatus(_ request: Request) async throws -> Response {
        let (json, effect, early) = try await firstpayPrologue(request, operation: "status")
        if let early { return early }
        // F3: paymentId is tried first, then merchantPaymentId.
        let found = state.withLock {
            $0.firstpay(paymentId: json["paymentId"]?.scalarText, merchantPaymentId: json["merchantPaymentId"]?.scalarText)
        }
        guard let found, found.merchantPublicKey == firstpayMerchant(json) else { return fpError(404, "NOT_FOUND") }
        let response = paymentResponse(found, bad: effect.badSignature)
        if effect.hangAfterProcessingMs > 0 { try await Task.sleep(for: .milliseconds(effect.hangAfterProcessingMs)) }
        return response
    }

    private func firstpaySMS(_ request: Request) async throws -> Response {
        let (json, _, early) = try await firstpayPrologue(request, operation: "sms", paymentIdField: "paymentId")
        if let early { return early }
        guard let paymentId = json["paymentId"]?.scalarText, let code = json["code"]?.scalarText else {
            return fpError(400, "paymentId and code are required")
        }
        enum Outcome {
            case notFound, notRequired, wrong
            case ok(SandboxFirstPayPayment)
        }
        let outcome: Outcome = state.withLock { s in
            guard var p = s.firstpayById[paymentId], p.merchantPublicKey == firstpayMerchant(json) else {
                return .notFound
            }
            guard p.smsRequired else { return .notRequired }
            guard code == configuration.firstpaySMSCode else { return .wrong }
            p.smsRequired = false
            p.plannedOutcome = p.plannedOutcome ?? "SUCCESS"
            s.firstpayById[p.id] = p
            return .ok(p)
        }
        switch outcome {
        case .notFound: return fpError(404, "NOT_FOUND")
        case .notRequired: return fpError(400, "SMS_NOT_REQUIRED")
        case .wrong: return jsonResponse(200, "{\"isSucceed\":false}")
        case .ok(let p):
            scheduleOutcome(provider: "firstpay", type: p.kind, paymentId: p.merchantPaymentId ?? p.id)
            return jsonResponse(200, "{\"isSucceed\":true}")
        }
    }

    private func firstpayMethods(_ request: Request, id: String?) async throws -> Response {
        let (_, _, early) = try await firstpayPrologue(request, operation: "payment_methods")
        if let early { return early }
        let type = request.uri.queryParameters.get("type")
        let methods = Self.firstpayMethods
        func object(_ m: SandboxPaymentMethod) -> String {
            "{\"id\":\"\(m.id)\",\"type\":\"\(m.type)\",\"name\":\"\(m.name)\",\"currencyCode\":\"\(m.currency)\","
                + "\"account\":{\"id\":12},\"clientFields\":[{\"id\":\"\(m.field)\",\"name\":\"\(m.fieldName)\","
                + "\"required\":true,\"validation\":\"\(m.validation)\"}],\"isAttachmentRequired\":false}"
        }
        if let id {
            guard let m = methods.first(where: { $0.id == id }) else { return fpError(404, "NOT_FOUND") }
            return jsonResponse(200, object(m))
        }
        let list = methods.filter { type == nil || $0.type == type }.map(object).joined(separator: ",")
        return jsonResponse(200, "[" + list + "]")
    }

    /// The sandbox's FirstPay payment methods (FirstPay's method object is undocumented; this is the shape
    /// PayBridge reads: `clientFields[].validation` as a regular expression).
    static let firstpayMethods: [SandboxPaymentMethod] = [
        SandboxPaymentMethod(id: "pm_bkash", type: "PAY_IN", name: "bKash", currency: "BDT", field: "phone",
                             fieldName: "Wallet number", validation: "^01[3-9][0-9]{8}$"),
        SandboxPaymentMethod(id: "pm_nagad", type: "PAY_IN", name: "Nagad", currency: "BDT", field: "phone",
                             fieldName: "Wallet number", validation: "^01[3-9][0-9]{8}$"),
        SandboxPaymentMethod(id: "pm_nagad_out", type: "PAY_OUT", name: "Nagad payout", currency: "BDT",
                             field: "wallet", fieldName: "Wallet number", validation: "^01[3-9][0-9]{8}$"),
        SandboxPaymentMethod(id: "pm_upi", type: "PAY_IN", name: "UPI", currency: "INR", field: "upiId",
                             fieldName: "UPI id", validation: "^[a-z0-9.]{2,64}@[a-z]{2,64}$"),
    ]

    // MARK: Helpers

    /// F4: the Payment object. FirstPay does not sign responses; the bad-signature fault adds a `hash` that
    /// does not verify, which a client must reject.
    /// The merchant of an authenticated request, as payments record it: `nil` for the default merchant.
    private func firstpayMerchant(_ json: JSONValue) -> String? {
        let key = json["publicKey"]?.stringValue
        return key == configuration.firstpayPublicKeyPEM ? nil : key
    }

    private func paymentResponse(_ payment: SandboxFirstPayPayment, bad: Bool) -> Response {
        var members = payment.object(forPostback: false)
        if bad {
            members.append(JSONMember("publicKey", .string(configuration.firstpayPublicKeyPEM)))
            members.append(JSONMember("hash", .string("AAAA" + String(repeating: "B", count: 340))))
        }
        return jsonResponse(200, JSONValue.object(JSONObject(members)).compactText)
    }

    func fpError(_ status: Int, _ error: String) -> Response {
        var w = JSONObjectWriter()
        w.string("error", error)
        return jsonResponse(status, w.compactText)
    }

    static func currency(forMethod id: String) -> String {
        let lower = id.lowercased()
        if lower.contains("jazzcash") || lower.contains("easypaisa") { return "PKR" }
        if lower.contains("upi") || lower.contains("inr") { return "INR" }
        if lower.contains("usd") { return "USD" }
        return "BDT"
    }

    /// Deterministic UUID-shaped ids (F6: string ids).
    static func uuidLike(_ n: Int, prefix: String) -> String {
        let hex = String(n, radix: 16)
        let tail = String(repeating: "0", count: max(0, 12 - hex.count)) + hex
        return prefix + "-8a4b-4d2e-9c1a-" + tail
    }
}

/// One payment method the sandbox's FirstPay offers.
struct SandboxPaymentMethod: Sendable {
    let id: String, type: String, name: String, currency: String
    /// The one client field's id, display name and validation (a regular expression, JSON-safe text).
    let field: String, fieldName: String, validation: String
}
