public import Logging
public import PaymentVocabulary
public import ProviderCore
import StrictJSON

/// Amanpay's API over AsyncHTTPClient: signed requests (A1), verified responses (A2), retries with backoff
/// and the status-first rule for creates (A5).
public final class AmanpayClient: Sendable {
    public let configuration: AmanpayConfiguration
    /// The breaker shared by every call of this client. The adapter reads its state for readiness.
    public let breaker: CircuitBreaker
    private let transport: any ProviderTransport
    private let ownsTransport: Bool
    private let runner: RetryRunner
    private let logger: Logger

    /// - Parameters:
    ///   - transport: an existing transport; when `nil` the client makes one from `configuration.timeouts`
    ///     and shuts it down in ``shutdown()``.
    ///   - clock, random: injectable for tests of the retry schedule.
    public init(
        configuration: AmanpayConfiguration,
        transport: (any ProviderTransport)? = nil,
        clock: any RetryClock = SystemRetryClock(),
        random: any RandomSource = SystemRandomSource(),
        logger: Logger = Logger(label: "paybridge.provider.amanpay")
    ) {
        self.configuration = configuration
        self.transport = transport ?? ProviderHTTPTransport(timeouts: configuration.timeouts)
        self.ownsTransport = transport == nil
        self.breaker = CircuitBreaker(configuration: configuration.circuitBreaker, clock: clock)
        self.runner = RetryRunner(
            provider: .amanpay, policy: configuration.retryPolicy, clock: clock, random: random, breaker: breaker)
        self.logger = logger
    }

    /// Shuts down the transport when the client created it.
    public func shutdown() async throws {
        if ownsTransport { try await transport.shutdown() }
    }

    // MARK: Operations

    /// `purchases/initiate`. The answer is never final (REDIRECT, SPECIFICATION or PENDING); declines come
    /// back as a `failed` result. After an ambiguous failure the status is read first (A5); with `statusFirst`
    /// (a command that may have run before) it is read before the first send too.
    public func purchase(_ request: AmanpayPurchaseRequest, statusFirst: Bool = false) async throws -> ProviderResult {
        let amount = try twoDecimals(request.amount, operation: "purchase")
        let merchantId = String(configuration.merchantId)
        // A1: amount currency merchantId paymentId [wallet number matching paymentMethod].
        var signed = [amount, request.currency, merchantId, request.paymentId]
        var body = JSONObjectWriter()
        body.number("merchantId", text: merchantId)
        body.string("paymentId", request.paymentId)
        body.number("amount", text: amount)  // A3: the same text that was signed
        body.string("currency", request.currency)
        body.string("customerEmail", request.customerEmail)
        body.string("customerId", request.customerId)
        body.string("customerName", request.customerName)
        body.string("customerKYCLevel", request.customerKYCLevel)
        body.string("paymentMethod", request.paymentMethod?.rawValue)
        if let method = request.paymentMethod, let wallet = request.walletNumber {
            body.string(method.walletNumberField, wallet)
            signed.append(wallet)
        }
        body.string("returnUrl", request.returnUrl)
        body.string("notifyUrl", request.notifyUrl)
        body.unwritten(request.additionalFields)  // never a documented field twice
        logger.debug(
            "amanpay purchase",
            metadata: [
                "amanpay.payment_id": "\(request.paymentId)",
                "amanpay.wallet": "\(request.walletNumber.map { Masking.accountNumber($0) } ?? "-")",
            ])
        return try await create(
            operation: "purchase", path: "/payments/purchases/initiate", body: body.serialized(),
            signature: AmanpaySignature.sign(signed, secret: configuration.secretKey),
            paymentId: request.paymentId, type: .purchase, amount: request.amount, currency: request.currency,
            statusFirst: statusFirst)
    }

    /// `payouts/initiate`. Answers PENDING; the outcome comes by callback. Status-first after ambiguity (A5), and
    /// before the first send with `statusFirst`.
    public func payout(_ request: AmanpayPayoutRequest, statusFirst: Bool = false) async throws -> ProviderResult {
        let amount = try twoDecimals(request.amount, operation: "payout")
        let merchantId = String(configuration.merchantId)
        // A1: amount currency merchantId paymentId recipientMobileNumber ("" when absent).
        let signed = [amount, request.currency, merchantId, request.paymentId, request.recipientMobileNumber ?? ""]
        logger.debug(
            "amanpay payout",
            metadata: [
                "amanpay.payment_id": "\(request.paymentId)",
                "amanpay.recipient": "\(request.recipientMobileNumber.map { Masking.accountNumber($0) } ?? "-")",
            ])
        return try await create(
            operation: "payout", path: "/payments/payouts/initiate",
            body: Self.payoutBody(request, merchantId: merchantId, amount: amount),
            signature: AmanpaySignature.sign(signed, secret: configuration.secretKey),
            paymentId: request.paymentId, type: .payout, amount: request.amount, currency: request.currency,
            statusFirst: statusFirst)
    }

    /// The JSON body of `payouts/initiate`; `amount` is the text that was signed (A3).
    package static func payoutBody(_ request: AmanpayPayoutRequest, merchantId: String, amount: String) -> String {
        var body = JSONObjectWriter()
        body.number("merchantId", text: merchantId)
        body.string("paymentId", request.paymentId)
        body.number("amount", text: amount)  // A3
        body.string("currency", request.currency)
        body.string("customerEmail", request.customerEmail)
        body.string("customerId", request.customerId)
        body.string("customerName", request.customerName)
        body.string("customerKYCLevel", request.customerKYCLevel)
        body.string("paymentMethod", request.paymentMethod.rawValue)
        body.string("recipientType", request.recipientType)
        body.string("recipientMobileNumber", request.recipientMobileNumber)
        body.string("returnUrl", request.returnUrl)
        body.string("notifyUrl", request.notifyUrl)
        body.unwritten(request.additionalFields)  // never a documented field twice
        return body.serialized()
    }

    /// `purchases/status` or `payouts/status` by the merchant's `paymentId` (A6), retried when transient. A
    /// `TRANSFER_ALREADY_COMPLETED` answer is not a failure: the status is read again and adopted (§5).
    /// - Throws: a ``ProviderError`` of class `not_found` (`TRANSACTION_NOT_FOUND`) for an unknown payment.
    public func status(paymentId: String, type: AmanpayPaymentType) async throws -> ProviderResult {
        try await runner.run(operation: "status") { _ in
            try await statusAdopting(paymentId: paymentId, type: type, operation: "status")
        }
    }

    /// `purchases/status`.
    public func purchaseStatus(paymentId: String) async throws -> ProviderResult {
        try await status(paymentId: paymentId, type: .purchase)
    }

    /// `payouts/status`.
    public func payoutStatus(paymentId: String) async throws -> ProviderResult {
        try await status(paymentId: paymentId, type: .payout)
    }

    /// `purchases/specify/{operationId}`: submits the data a SPECIFICATION asked for (e.g. `["Otp": "123456"]`).
    /// The outcome follows by callback. `TRANSFER_ALREADY_COMPLETED` is never a failure (§5): with the merchant's
    /// `paymentId` the purchase's status is read and adopted; without it the answer is `processing` (the outcome
    /// follows by callback, as for any specify).
    public func specify(
        transactionId: String,
        operationId: String,
        additionalFields: [String: String],
        paymentId: String? = nil
    ) async throws -> ProviderResult {
        guard let transactionNumber = Int(transactionId), Int(operationId) != nil else {
            throw invalid("specify", "transactionId and operationId must be integers")
        }
        var body = JSONObjectWriter()
        body.number("transactionId", text: String(transactionNumber))
        body.number("merchantId", text: String(configuration.merchantId))
        let fields = additionalFields.keys.sorted().map { JSONMember($0, .string(additionalFields[$0]!)) }
        body.value("additionalFields", .object(JSONObject(fields)))
        // A1: transactionId operationId (merchantId unsigned).
        let signature = AmanpaySignature.sign([transactionId, operationId], secret: configuration.secretKey)
        let text = body.serialized()
        return try await runner.run(operation: "specify") { _ in
            let response = try await post(
                operation: "specify", path: "/payments/purchases/specify/\(operationId)", body: text,
                signature: signature)
            do {
                return try interpret(response, operation: "specify", acceptUnsignedAsProcessing: true)
            } catch let error as ProviderError where error.code == AmanpayErrorCode.transferAlreadyCompleted {
                guard let paymentId else {
                    return ProviderResult(
                        provider: .amanpay, operation: "specify", status: .processing, providerPaymentId: transactionId,
                        httpStatus: error.httpStatus, rawBody: error.rawBody ?? "")
                }
                return try await statusAdopting(paymentId: paymentId, type: .purchase, operation: "specify")
            }
        }
    }

    /// `merchants/balance` (not signature-checked: A2 scope).
    public func balance() async throws -> AmanpayBalance {
        let merchantId = String(configuration.merchantId)
        var body = JSONObjectWriter()
        body.number("merchant_id", text: merchantId)
        let text = body.serialized()
        let signature = AmanpaySignature.sign([merchantId], secret: configuration.secretKey)
        return try await runner.run(operation: "balance") { _ in
            let response = try await post(operation: "balance", path: "/merchants/balance", body: text, signature: signature)
            try throwIfHTTPTransient(response, operation: "balance")
            guard let json = try? JSONValue.parse(response.body) else {
                throw malformed("balance", response)
            }
            let resultCode = json["result_code"]?.stringValue
            if resultCode != "OK" {
                let code = resultCode ?? json["errorCode"]?.stringValue ?? ProviderError.Code.http(response.status).rawValue
                let message = json["result_message"]?.stringValue ?? json["errorMessage"]?.stringValue ?? ""
                throw ProviderError(
                    provider: .amanpay, operation: "balance", errorClass: codeClass(code),
                    code: ProviderError.Code(rawValue: code),
                    message: message, httpStatus: response.status, rawBody: response.bodyText)
            }
            let entries: [AmanpayBalance.Entry] = (json["balance"]?.arrayElements ?? []).compactMap { e in
                guard let currency = e["currency"]?.stringValue,
                    let amount = e["amount"]?.scalarText.flatMap(DecimalAmount.init)
                else { return nil }
                return AmanpayBalance.Entry(currency: currency, amount: amount)
            }
            return AmanpayBalance(
                merchantId: json["merchant_id"]?.scalarText, balances: entries, resultCode: resultCode,
                resultMessage: json["result_message"]?.stringValue, rawBody: response.bodyText)
        }
    }

    /// A7: verifies (A2) and parses a callback. A callback that fails verification must be neither applied
    /// nor answered 2xx.
    /// - Parameters:
    ///   - body: the request body as received.
    ///   - authorization: the `Authorization` header.
    /// - Throws: ``ProviderError`` `INVALID_CALLBACK_SIGNATURE` or `MALFORMED_CALLBACK` (class `invalid_request`).
    public func verifyCallback(body: [UInt8], authorization: String?) throws -> ProviderResult {
        try AmanpayCallback.verify(
            body: body, authorization: authorization, fields: configuration.responseSignatureFields,
            secret: configuration.secretKey)
    }

    // MARK: Internals

    private func create(
        operation: String, path: String, body: String, signature: String, paymentId: String,
        type: AmanpayPaymentType, amount: DecimalAmount, currency: String, statusFirst: Bool
    ) async throws -> ProviderResult {
        try await runner.runCreate(
            operation: operation, readStatusFirst: statusFirst,
            unknownResult: { error in
                ProviderResult(
                    provider: .amanpay, operation: operation, status: .unknown, merchantPaymentId: paymentId,
                    amount: amount, currency: currency,
                    error: OutcomeError(code: error.code.rawValue, message: error.message, errorClass: .unknown))
            },
            send: { _ in
                let response = try await post(operation: operation, path: path, body: body, signature: signature)
                do {
                    return try interpret(response, operation: operation)
                } catch let error as ProviderError where error.code == AmanpayErrorCode.transferAlreadyCompleted {
                    // §5 lookup class: re-read the status and adopt it; never a failure.
                    return try await statusAdopting(paymentId: paymentId, type: type, operation: operation)
                }
            },
            lookup: {
                do {
                    return try await statusAdopting(paymentId: paymentId, type: type, operation: operation)
                } catch let error as ProviderError where AmanpayErrorCode.isPaymentNotFound(error) {
                    return nil  // A5: only TRANSACTION_NOT_FOUND says the payment does not exist; re-sending is safe.
                }
            })
    }

    /// One status read whose result is published as `operation`. `TRANSFER_ALREADY_COMPLETED` on the read is not
    /// a failure (§5): the status is read once more and adopted. Should that read say it again, there is no status
    /// to adopt yet: a transient error (retried), never a failure of the payment.
    private func statusAdopting(paymentId: String, type: AmanpayPaymentType, operation: String) async throws
        -> ProviderResult
    {
        var result: ProviderResult
        do {
            result = try await statusOnce(paymentId: paymentId, type: type)
        } catch let error as ProviderError where error.code == AmanpayErrorCode.transferAlreadyCompleted {
            do {
                result = try await statusOnce(paymentId: paymentId, type: type)
            } catch let again as ProviderError where again.code == AmanpayErrorCode.transferAlreadyCompleted {
                throw ProviderError(
                    provider: .amanpay, operation: operation, errorClass: .transient, code: again.code,
                    message: "the status read answers \(again.code) again; no status to adopt yet",
                    httpStatus: again.httpStatus, mayHaveReachedProvider: true, rawBody: again.rawBody)
            }
        }
        result.operation = operation
        return result
    }

    private func statusOnce(paymentId: String, type: AmanpayPaymentType) async throws -> ProviderResult {
        let merchantId = String(configuration.merchantId)
        var body = JSONObjectWriter()
        body.number("merchantId", text: merchantId)
        body.string("paymentId", paymentId)
        // A1: merchantId paymentId.
        let signature = AmanpaySignature.sign([merchantId, paymentId], secret: configuration.secretKey)
        let path = type == .purchase ? "/payments/purchases/status" : "/payments/payouts/status"
        let response = try await post(operation: "status", path: path, body: body.serialized(), signature: signature)
        return try interpret(response, operation: "status")
    }

    private func post(operation: String, path: String, body: String, signature: String) async throws
        -> TransportResponse
    {
        try await transport.post(
            url: configuration.baseURL + path, headers: [("Authorization", signature)], body: body,
            provider: .amanpay, operation: operation, logger: logger)
    }

    private func throwIfHTTPTransient(_ response: TransportResponse, operation: String) throws {
        // A4: 5xx and 429 are transient; 429 was refused before processing.
        if response.status >= 500 || response.status == 429 {
            throw ProviderError(
                provider: .amanpay, operation: operation, errorClass: .transient, code: .http(response.status),
                message: "provider answered HTTP \(response.status)", httpStatus: response.status,
                retryAfter: response.retryAfter, mayHaveReachedProvider: response.status != 429,
                rawBody: response.bodyText)
        }
    }

    /// Turns a response into a result or an error (A2, A4, A6, §5).
    package func interpret(
        _ response: TransportResponse, operation: String, acceptUnsignedAsProcessing: Bool = false
    ) throws -> ProviderResult {
        try throwIfHTTPTransient(response, operation: operation)
        guard let json = try? JSONValue.parse(response.body), json.objectMembers != nil else {
            throw malformed(operation, response)
        }
        let object = AmanpayPaymentObject(json: json)
        let raw = response.bodyText
        if object.identifiesPayment {
            // A2: responses naming a payment must carry a valid signature; never trust one that does not.
            guard
                AmanpaySignature.verifyResponse(
                    json, authorization: response.header("Authorization"),
                    fields: configuration.responseSignatureFields, secret: configuration.secretKey)
            else {
                logger.warning("amanpay response signature does not verify", metadata: ["amanpay.operation": "\(operation)"])
                // A per-command provider_error (retried broker-side, then given up); only a run of them across
                // commands pauses the provider (the worker's BadSignatureStreak).
                throw ProviderError(
                    provider: .amanpay, operation: operation, errorClass: .providerError,
                    code: .invalidResponseSignature,
                    message: "response signature does not verify (A2): wrong secret, field list or a tampered body",
                    httpStatus: response.status, mayHaveReachedProvider: true, rawBody: raw)
            }
        }
        if let code = object.errorCode, object.status == .failed || object.status == nil {
            let cls = AmanpayErrorCode.retryClass(of: code)
            // A4: synchronous errors. Configuration and lookup codes are errors. A transient code is a retry only
            // on a body that names no payment (a synchronous failure, A5) or on specify (its FAILED answer is the
            // specify step's). A signed FAILED object that names a payment, from a create or a status read, is
            // the payment's status: final, class `declined` (§4, §5), never a retry.
            if cls == .configuration || cls == .notFound
                || (cls == .transient && (!object.identifiesPayment || operation == "specify"))
            {
                throw ProviderError(
                    provider: .amanpay, operation: operation, errorClass: cls, code: ProviderError.Code(rawValue: code),
                    message: object.errorMessage ?? "", httpStatus: response.status,
                    mayHaveReachedProvider: cls == .transient, rawBody: raw)
            }
            // Declines (and unknown codes on FAILED): the payment is over.
            var result = object.result(operation: operation, httpStatus: response.status, rawBody: raw)
            result.status = .failed
            return result
        }
        guard object.identifiesPayment else {
            // A2 scope: an unchecked body is never a success.
            if acceptUnsignedAsProcessing, response.status < 300 {
                return ProviderResult(
                    provider: .amanpay, operation: operation, status: .processing,
                    providerStatus: object.status?.rawValue, httpStatus: response.status, rawBody: raw)
            }
            throw malformed(operation, response)
        }
        if response.status >= 400 {
            throw ProviderError(
                provider: .amanpay, operation: operation, errorClass: .invalidCommand, code: .http(response.status),
                message: "provider answered HTTP \(response.status)", httpStatus: response.status, rawBody: raw)
        }
        return object.result(operation: operation, httpStatus: response.status, rawBody: raw)
    }

    private func codeClass(_ code: String) -> ErrorClass {
        AmanpayErrorCode.all.contains(code) ? AmanpayErrorCode.retryClass(of: code) : .invalidCommand
    }

    private func malformed(_ operation: String, _ response: TransportResponse) -> ProviderError {
        // A body we cannot use after the request was sent: transient, and creates are reconciled by status.
        ProviderError(
            provider: .amanpay, operation: operation, errorClass: .transient, code: .malformedResponse,
            message: "unusable response body (HTTP \(response.status))", httpStatus: response.status,
            mayHaveReachedProvider: true, rawBody: response.bodyText)
    }

    private func invalid(_ operation: String, _ message: String) -> ProviderError {
        ProviderError(
            provider: .amanpay, operation: operation, errorClass: .invalidCommand, code: .invalidRequest,
            message: message)
    }

    private func twoDecimals(_ amount: DecimalAmount, operation: String) throws -> String {
        // A1/A3: exactly two decimals, never rounded.
        guard !amount.isNegative, !amount.isZero, let text = amount.twoDecimalText else {
            throw invalid(operation, "amount must be positive with at most two decimals")
        }
        return text
    }
}
