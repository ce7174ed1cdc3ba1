import Amanpay
import Hummingbird
import NIOCore
import PaymentVocabulary
import ProviderCore
import StrictJSON

/// Amanpay side of the sandbox (amanpay.md §2–§5, A1–A8).
extension ProviderSandbox {
    func addAmanpayRoutes(to router: Router<BasicRequestContext>) {
        router.post("/payments/purchases/initiate") { request, _ in
            try await self.amanpayInitiate(request, type: "purchase")
        }
        router.post("/payments/payouts/initiate") { request, _ in
            try await self.amanpayInitiate(request, type: "payout")
        }
        router.post("/payments/purchases/status") { request, _ in
            try await self.amanpayStatus(request, type: "purchase")
        }
        router.post("/payments/payouts/status") { request, _ in
            try await self.amanpayStatus(request, type: "payout")
        }
        router.post("/payments/purchases/specify/:operationId") { request, context in
            try await self.amanpaySpecify(request, operationId: context.parameters.get("operationId") ?? "")
        }
        router.post("/merchants/balance") { request, _ in
            try await self.amanpayBalance(request)
        }
    }

    // MARK: Handlers

    private func amanpayInitiate(_ request: Request, type: String) async throws -> Response {
        let operation = type
        let (json, text) = try await readJSON(request)
        let paymentId = json?["paymentId"]?.scalarText
        guard let json, let paymentId, let amountText = json["amount"]?.numberText,
            let currency = json["currency"]?.stringValue, json["merchantId"]?.scalarText != nil
        else {
            record("amanpay", operation, request, paymentId: paymentId, valid: false, body: text)
            return amanpayError(400, "GENERAL_ERROR", "malformed request: merchantId, paymentId, amount, currency required")
        }
        // A1: amount currency merchantId paymentId + wallet (purchase) / recipientMobileNumber (payout).
        var signed = [amountText, currency, json["merchantId"]!.scalarText!, paymentId]
        if type == "purchase" {
            if let method = json["paymentMethod"]?.stringValue, let wallet = json[method + "Number"]?.scalarText {
                signed.append(wallet)
            }
        } else {
            signed.append(json["recipientMobileNumber"]?.scalarText ?? "")
        }
        let valid = checkAmanpaySignature(request, json: json, signed: signed)
        let merchant = amanpayMerchant(json["merchantId"]?.scalarText)
        record("amanpay", operation, request, paymentId: paymentId, valid: valid, body: text)
        let effect = takeFaults("amanpay", operation, paymentId)
        if let early = try await applyEarlyFaults(effect, provider: "amanpay") { return early }
        guard valid else { return amanpayError(401, "INVALID_API_KEY", "API key invalid or expired") }
        // A3: a JSON number with exactly two decimals.
        guard let amount = DecimalAmount(amountText), amountText.split(separator: ".").last?.count == 2,
            amountText.contains("."), !amount.isNegative, !amount.isZero
        else {
            return amanpayError(400, "GENERAL_ERROR", "amount must be a number with exactly two decimals")
        }
        if let code = effect.errorCode, code != "TRANSFER_ALREADY_COMPLETED" {
            let cls = AmanpayErrorCode.retryClass(of: code)
            if cls != .declined {
                // Configuration, lookup and transient codes fail before a payment exists (A4).
                let status = code == "INVALID_API_KEY" ? 401 : code == "TRANSACTION_NOT_FOUND" ? 404 : 400
                return amanpayError(status, code, SandboxAmanpayPayment.message(for: code))
            }
        }
        let result: (payment: SandboxAmanpayPayment, created: Bool) = state.withLock { s in
            if let existing = s.amanpay(type: type, paymentId: paymentId), existing.merchantId == merchant {
                return (existing, false)  // A5: a duplicate paymentId returns the existing payment.
            }
            let transactionId = s.nextTransactionId
            s.nextTransactionId += 1
            var p = SandboxAmanpayPayment(
                transactionId: transactionId, operationId: nil, paymentId: paymentId, paymentType: type,
                amount: amountText, currency: currency, status: "PENDING",
                notifyUrl: json["notifyUrl"]?.stringValue, customerName: json["customerName"]?.stringValue,
                traceparent: traceparentHeader(request))
            p.merchantId = merchant
            if let code = effect.errorCode, code != "TRANSFER_ALREADY_COMPLETED" {
                p.status = "FAILED"
                p.errorCode = code
                p.errorMessage = SandboxAmanpayPayment.message(for: code)
            } else if effect.errorCode == "TRANSFER_ALREADY_COMPLETED" {
                p.status = "SUCCESS"
                p.customerName = p.customerName ?? "Mark Cooper"
                p.customerAccountNumber = "185927571757184"
            } else if type == "purchase" {
                let initial = effect.initialStatus ?? (json["paymentMethod"] == nil ? "REDIRECT" : "PENDING")
                p.status = initial
                if initial == "REDIRECT" { p.redirectUrl = "\(baseURL)/checkout/\(transactionId)" }
                if initial == "SPECIFICATION" {
                    p.operationId = s.nextOperationId
                    s.nextOperationId += 1
                    p.awaitingOTP = true
                }
            }
            p.plannedOutcome = effect.plannedOutcome(autoComplete: configuration.autoCompleteOutcome)
            p.plannedNotify = effect.notify
            p.plannedErrorCode = effect.outcomeErrorCode
            s.setAmanpay(p)
            return (p, true)
        }
        let payment = result.payment
        if effect.errorCode == "TRANSFER_ALREADY_COMPLETED" {
            return amanpayError(400, "TRANSFER_ALREADY_COMPLETED", "already processed successfully")
        }
        let response = signedAmanpayResponse(payment.object(), bad: effect.badSignature,
                                             secret: amanpaySecret(payment.merchantId))
        if result.created {
            if payment.status == "SPECIFICATION" {
                sendAmanpayCallback(payment.specificationCallback(), payment: payment)
            } else if effect.answerAfterCallback, let outcome = payment.plannedOutcome, !payment.isFinal {
                // A slow gateway: the payment is over and its callback sent before the create is answered.
                _ = completeAmanpay(paymentId: paymentId, type: type, status: outcome,
                                    errorCode: payment.plannedErrorCode, notify: true)
                await heldAnswer(paymentId: paymentId)
            } else if payment.plannedOutcome != nil, !payment.isFinal {
                scheduleOutcome(provider: "amanpay", type: type, paymentId: paymentId)
            }
        }
        if effect.hangAfterProcessingMs > 0 { try await Task.sleep(for: .milliseconds(effect.hangAfterProcessingMs)) }
        return response
    }

    private func amanpayStatus(_ request: Request, type: String) async throws -> Response {
        let (json, text) = try await readJSON(request)
        let paymentId = json?["paymentId"]?.scalarText
        guard let json, let paymentId, let merchantId = json["merchantId"]?.scalarText else {
            record("amanpay", "status", request, paymentId: paymentId, valid: false, body: text)
            return amanpayError(400, "GENERAL_ERROR", "malformed request: merchantId and paymentId required")
        }
        // A1: merchantId paymentId.
        let valid = checkAmanpaySignature(request, json: json, signed: [merchantId, paymentId])
        record("amanpay", "status", request, paymentId: paymentId, valid: valid, body: text)
        let effect = takeFaults("amanpay", "status", paymentId)
        if let early = try await applyEarlyFaults(effect, provider: "amanpay") { return early }
        guard valid else { return amanpayError(401, "INVALID_API_KEY", "API key invalid or expired") }
        if let code = effect.errorCode {
            return amanpayError(code == "TRANSACTION_NOT_FOUND" ? 404 : 400, code, SandboxAmanpayPayment.message(for: code))
        }
        let merchant = amanpayMerchant(merchantId)
        guard let payment = state.withLock({ $0.amanpay(type: type, paymentId: paymentId) }),
            payment.merchantId == merchant
        else {
            // A6: unknown payment (or another merchant's) → 404, FAILED, TRANSACTION_NOT_FOUND.
            return amanpayError(404, "TRANSACTION_NOT_FOUND", "No transfer with that id")
        }
        let response = signedAmanpayResponse(payment.object(), bad: effect.badSignature,
                                             secret: amanpaySecret(payment.merchantId))
        if effect.hangAfterProcessingMs > 0 { try await Task.sleep(for: .milliseconds(effect.hangAfterProcessingMs)) }
        return response
    }

    private func amanpaySpecify(_ request: Request, operationId: String) async throws -> Response {
        let (json, text) = try await readJSON(request)
        guard let json, let transactionId = json["transactionId"]?.scalarText, Int(operationId) != nil else {
            record("amanpay", "specify", request, paymentId: nil, valid: false, body: text)
            return amanpayError(400, "GENERAL_ERROR", "malformed request: transactionId required")
        }
        // A1: transactionId operationId (merchantId unsigned).
        let key = state.withLock { s in Int(transactionId).flatMap { s.amanpayByTransaction[$0] } }
        let owner = key.flatMap { key in state.withLock { $0.amanpay(type: key.type, paymentId: key.paymentId) } }
        let valid = checkAmanpaySignature(request, json: json, signed: [transactionId, operationId],
                                          merchant: owner?.merchantId)
        record("amanpay", "specify", request, paymentId: key?.paymentId, valid: valid, body: text)
        let effect = takeFaults("amanpay", "specify", key?.paymentId)
        if let early = try await applyEarlyFaults(effect, provider: "amanpay") { return early }
        guard valid else { return amanpayError(401, "INVALID_API_KEY", "API key invalid or expired") }
        if let code = effect.errorCode { return amanpayError(400, code, SandboxAmanpayPayment.message(for: code)) }
        let otp = json["additionalFields"]?["Otp"]?.scalarText
        let updated: SandboxAmanpayPayment? = state.withLock { s in
            guard let key, var p = s.amanpay(type: key.type, paymentId: key.paymentId),
                p.awaitingOTP, String(p.operationId ?? -1) == operationId
            else { return nil }
            p.awaitingOTP = false
            if otp == configuration.amanpayOTP {
                p.status = "PENDING"
                p.plannedOutcome = p.plannedOutcome ?? "SUCCESS"
            } else {
                p.status = "FAILED"
                p.errorCode = "PAYMENT_NOT_COMPLETED_BY_CUSTOMER"
                p.errorMessage = "wrong OTP"
                p.plannedOutcome = nil
            }
            s.setAmanpay(p)
            return p
        }
        guard let updated else { return amanpayError(404, "TRANSACTION_NOT_FOUND", "No transfer awaiting that operation") }
        if updated.status == "FAILED" {
            sendAmanpayCallback(updated.object(), payment: updated)
        } else {
            scheduleOutcome(provider: "amanpay", type: updated.paymentType, paymentId: updated.paymentId)
        }
        return signedAmanpayResponse(updated.object(), bad: effect.badSignature,
                                     secret: amanpaySecret(updated.merchantId))
    }

    private func amanpayBalance(_ request: Request) async throws -> Response {
        let (json, text) = try await readJSON(request)
        guard let json, let merchantId = json["merchant_id"]?.scalarText else {
            record("amanpay", "balance", request, paymentId: nil, valid: false, body: text)
            return amanpayError(400, "GENERAL_ERROR", "malformed request: merchant_id required")
        }
        let valid = checkAmanpaySignature(request, json: json, signed: [merchantId], merchantIdField: "merchant_id")
        record("amanpay", "balance", request, paymentId: nil, valid: valid, body: text)
        let effect = takeFaults("amanpay", "balance", nil)
        if let early = try await applyEarlyFaults(effect, provider: "amanpay") { return early }
        guard valid else { return amanpayError(401, "INVALID_API_KEY", "API key invalid or expired") }
        let body =
            "{\"merchant_id\":\(configuration.amanpayMerchantId),\"balance\":[{\"currency\":\"BDT\",\"amount\":7000},"
            + "{\"currency\":\"PKR\",\"amount\":5849.76}],\"result_code\":\"OK\",\"result_message\":\"request processed\"}"
        return jsonResponse(200, body)
    }

    // MARK: Helpers

    /// A1 check: the `Authorization` header against the signed values, with the secret of the request's merchant
    /// (one the sandbox serves), or of `merchant` for a request whose merchant id is not in the body (`specify`).
    private func checkAmanpaySignature(
        _ request: Request, json: JSONValue, signed: [String], merchantIdField: String = "merchantId",
        merchant: Int?? = nil
    ) -> Bool {
        let merchantId: Int?
        if let merchant {
            merchantId = merchant
        } else {
            guard let text = json[merchantIdField]?.scalarText, let known = knownAmanpayMerchant(text) else {
                return false
            }
            merchantId = known
        }
        guard let header = request.headers[.authorization] else { return false }
        let expected = AmanpaySignature.sign(signed, secret: amanpaySecret(merchantId))
        return AmanpaySignature.constantTimeEqualsIgnoringCase(header, expected)
    }

    /// A merchant id the sandbox serves: `.some(nil)` for the default one, `.some(id)` for one of
    /// ``ProviderSandboxConfiguration/amanpayMerchants``, `nil` for any other.
    private func knownAmanpayMerchant(_ text: String) -> Int?? {
        if text == String(configuration.amanpayMerchantId) { return .some(nil) }
        guard let id = Int(text), configuration.amanpayMerchants[id] != nil else { return nil }
        return .some(id)
    }

    /// The payment owner recorded for a request's merchant id: `nil` for the default merchant (or an unknown one).
    func amanpayMerchant(_ text: String?) -> Int? {
        text.flatMap { knownAmanpayMerchant($0) } ?? nil
    }

    /// The secret of a merchant (`nil`: the default one).
    func amanpaySecret(_ merchant: Int?) -> Secret {
        merchant.flatMap { configuration.amanpayMerchants[$0] } ?? configuration.amanpaySecretKey
    }

    /// A2: a response signed over the configured fields with `secret` (default: the default merchant's), or wrongly
    /// for the bad-signature fault.
    func signedAmanpayResponse(_ body: JSONValue, bad: Bool, secret: Secret? = nil) -> Response {
        var signature = AmanpaySignature.signResponse(
            body, fields: configuration.amanpayResponseSignatureFields, secret: secret ?? configuration.amanpaySecretKey)
        if bad {
            signature = AmanpaySignature.signResponse(
                body, fields: configuration.amanpayResponseSignatureFields, secret: Secret("not-the-secret"))
        }
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        headers[.authorization] = signature
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: body.compactText)))
    }

    /// A4/A6: an error body without ids (outside A2's scope, so unsigned).
    func amanpayError(_ status: Int, _ code: String, _ message: String) -> Response {
        var w = JSONObjectWriter()
        w.string("status", "FAILED")
        w.string("errorCode", code)
        w.string("errorMessage", message)
        return jsonResponse(status, w.compactText)
    }
}
