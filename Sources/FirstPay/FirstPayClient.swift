public import Logging
public import PaymentVocabulary
public import ProviderCore
public import StrictJSON

/// FirstPay's API over AsyncHTTPClient: `hash`-signed requests (F1), typed Payment results, retries with
/// backoff, the status-first rule for creates (F8) and postback verification (F2).
public final class FirstPayClient: Sendable {
    public let configuration: FirstPayConfiguration
    /// Shared by every call of this client; the adapter reads it for readiness.
    public let breaker: CircuitBreaker
    private let signer: FirstPaySigner
    private let postbackVerifier: FirstPayVerifier
    private let transport: any ProviderTransport
    private let ownsTransport: Bool
    private let runner: RetryRunner
    private let logger: Logger

    /// - Throws: a `configuration` ``ProviderError`` when a key cannot be read.
    public init(
        configuration: FirstPayConfiguration,
        transport: (any ProviderTransport)? = nil,
        clock: any RetryClock = SystemRetryClock(),
        random: any RandomSource = SystemRandomSource(),
        logger: Logger = Logger(label: "paybridge.provider.firstpay")
    ) throws {
        self.configuration = configuration
        self.signer = try FirstPaySigner(
            privateKeyPEM: configuration.merchantPrivateKeyPEM, canonicalizer: configuration.canonicalizer)
        self.postbackVerifier = try FirstPayVerifier(
            publicKeyPEM: configuration.publicKeyPEM, canonicalizer: configuration.canonicalizer)
        self.transport = transport ?? ProviderHTTPTransport(timeouts: configuration.timeouts)
        self.ownsTransport = transport == nil
        self.breaker = CircuitBreaker(configuration: configuration.circuitBreaker, clock: clock)
        self.runner = RetryRunner(
            provider: .firstpay, policy: configuration.retryPolicy, clock: clock, random: random, breaker: breaker)
        self.logger = logger
    }

    /// Shuts down the transport when the client created it.
    public func shutdown() async throws {
        if ownsTransport { try await transport.shutdown() }
    }

    // MARK: Operations

    /// `pay_in` (F3, F4): answers PENDING or NEED_CHECK (+ `redirectUrl`). Status-first after ambiguity (F8).
    /// With `statusFirst` (a command that may have run before) the status is read before the first send too.
    public func payIn(_ request: FirstPayPaymentRequest, statusFirst: Bool = false) async throws -> ProviderResult {
        try await create(request, operation: "pay_in", path: configuration.paths.payIn, statusFirst: statusFirst)
    }

    /// `pay_out` (F3, F4). Status-first after ambiguity (F8).
    /// With `statusFirst`, as ``payIn(_:statusFirst:)``.
    public func payOut(_ request: FirstPayPaymentRequest, statusFirst: Bool = false) async throws -> ProviderResult {
        try await create(request, operation: "pay_out", path: configuration.paths.payOut, statusFirst: statusFirst)
    }

    /// Payment status by `paymentId` and/or `merchantPaymentId` (F3; `paymentId` is tried first by FirstPay).
    /// - Throws: ``ProviderError`` of class `lookup` (`NOT_FOUND`) for an unknown payment.
    public func status(paymentId: String? = nil, merchantPaymentId: String? = nil) async throws -> ProviderResult {
        guard paymentId != nil || merchantPaymentId != nil else {
            throw invalid("status", "paymentId or merchantPaymentId is required")
        }
        return try await runner.run(operation: "status") { _ in
            try await statusOnce(paymentId: paymentId, merchantPaymentId: merchantPaymentId)
        }
    }

    /// SMS confirmation (F3): `paymentId` and the customer's `code`.
    /// - Throws: `SMS_NOT_REQUIRED` / `ACCESS_DENIED` as `invalid_request`, `NOT_FOUND` as `lookup`.
    public func confirmSMS(paymentId: String, code: String) async throws -> FirstPaySMSConfirmation {
        let body = try signedBodyText([
            JSONMember("paymentId", .string(paymentId)), JSONMember("code", .string(code)),
        ])
        return try await runner.run(operation: "sms") { _ in
            let response = try await post(operation: "sms", path: configuration.paths.sms, body: body)
            let json = try checkedJSON(response, operation: "sms")
            guard case .bool(let ok)? = json["isSucceed"] else { throw malformed("sms", response) }
            return FirstPaySMSConfirmation(isSucceed: ok, rawBody: response.bodyText)
        }
    }

    /// The payment-method list (F3 pinned path) or one method by id. Fetch right before showing a payment
    /// page; never cache (`account` data is dynamic). The shape is undocumented, so it is returned as JSON.
    public func paymentMethods(
        id: String? = nil,
        type: FirstPayPaymentType? = nil,
        locale: String? = nil,
        merchantPaymentId: String,
        merchantUserId: String,
        amount: DecimalAmount,
        level: String? = nil
    ) async throws -> JSONValue {
        guard let amountText = jsAmount(amount) else { throw invalid("payment_methods", "amount out of range (F5)") }
        var members = [
            JSONMember("merchantPaymentId", .string(merchantPaymentId)),
            JSONMember("merchantUserId", .string(merchantUserId)),
            JSONMember("amount", .number(JSONNumber(trusted: amountText))),
        ]
        if let level { members.append(JSONMember("level", .string(level))) }
        let body = try signedBodyText(members)
        var path = configuration.paths.paymentMethods
        if let id { path += "/" + percentEncode(id) }
        var query: [String] = []
        if let type { query.append("type=" + type.rawValue) }
        if let locale { query.append("locale=" + percentEncode(locale)) }
        if !query.isEmpty { path += "?" + query.joined(separator: "&") }
        let finalPath = path
        return try await runner.run(operation: "payment_methods") { _ in
            let response = try await post(operation: "payment_methods", path: finalPath, body: body)
            return try checkedJSON(response, operation: "payment_methods")
        }
    }

    /// F2: verifies and parses a postback. Every postback is a new fact (a flip SUCCESS ↔ FAILED is a
    /// correction); duplicates (same `id` and `status`, F7) are the caller's to recognise.
    /// - Throws: `INVALID_POSTBACK_SIGNATURE` / `MALFORMED_POSTBACK` (class `invalid_request`).
    public func verifyPostback(body: [UInt8]) throws -> ProviderResult {
        try FirstPayPostback.verify(body: body, verifier: postbackVerifier)
    }

    // MARK: Internals

    private func create(_ request: FirstPayPaymentRequest, operation: String, path: String, statusFirst: Bool)
        async throws -> ProviderResult
    {
        guard let amountText = jsAmount(request.amount), !request.amount.isNegative, !request.amount.isZero else {
            throw invalid(operation, "amount must be positive with at most 15 significant digits (F5)")
        }
        var members = [
            JSONMember("accountId", .number(JSONNumber(request.accountId))),
            JSONMember("paymentMethodId", .string(request.paymentMethodId)),
            JSONMember("amount", .number(JSONNumber(trusted: amountText))),  // F5: the text JavaScript would print
            JSONMember(
                "clientFieldsValues",
                .array(
                    request.clientFieldsValues.map {
                        .object([JSONMember("key", .string($0.key)), JSONMember("value", .string($0.value))])
                    })),
            JSONMember("merchantPaymentId", .string(request.merchantPaymentId)),  // F8: always sent
        ]
        func optional(_ key: String, _ value: String?) {
            if let value { members.append(JSONMember(key, .string(value))) }
        }
        optional("merchantUserId", request.merchantUserId)
        optional("successRedirectUrl", request.successRedirectUrl)
        optional("failureRedirectUrl", request.failureRedirectUrl)
        optional("postBackUrl", request.postBackUrl)
        optional("attachmentId", request.attachmentId)
        let body = try signedBodyText(members)
        logger.debug(
            "firstpay \(operation)",
            metadata: [
                "firstpay.merchant_payment_id": "\(request.merchantPaymentId)",
                "firstpay.fields": "\(request.clientFieldsValues.map { "\($0.key)=\(Masking.accountNumber($0.value))" })",
            ])
        let merchantPaymentId = request.merchantPaymentId
        return try await runner.runCreate(
            operation: operation, readStatusFirst: statusFirst,
            unknownResult: { error in
                ProviderResult(
                    provider: .firstpay, operation: operation, status: .unknown, merchantPaymentId: merchantPaymentId,
                    amount: request.amount,
                    error: OutcomeError(code: error.code.rawValue, message: error.message, errorClass: .unknown))
            },
            send: { _ in
                let response = try await post(operation: operation, path: path, body: body)
                return try paymentResult(response, operation: operation)
            },
            lookup: {
                do {
                    var found = try await statusOnce(paymentId: nil, merchantPaymentId: merchantPaymentId)
                    found.operation = operation
                    return found
                } catch let error as ProviderError where Self.isPaymentNotFound(error) {
                    return nil  // F8: only 404 NOT_FOUND says the payment does not exist; re-sending is safe.
                }
            })
    }

    private func statusOnce(paymentId: String?, merchantPaymentId: String?) async throws -> ProviderResult {
        var members: [JSONMember] = []
        if let paymentId { members.append(JSONMember("paymentId", .string(paymentId))) }
        if let merchantPaymentId { members.append(JSONMember("merchantPaymentId", .string(merchantPaymentId))) }
        let body = try signedBodyText(members)
        let response = try await post(operation: "status", path: configuration.paths.status, body: body)
        return try paymentResult(response, operation: "status")
    }

    /// F1/F2: adds `publicKey` (the FirstPay public key PEM as issued) and signs with `hash`.
    private func signedBodyText(_ members: [JSONMember]) throws -> String {
        do {
            return try signer.signedBody(members + [JSONMember("publicKey", .string(configuration.publicKeyPEM))])
                .compactText
        } catch let error as ProviderError {
            throw error
        } catch {
            throw ProviderError(
                provider: .firstpay, operation: "sign", errorClass: .configuration, code: .signingFailed,
                message: "could not sign the request with the merchant key")
        }
    }

    private func post(operation: String, path: String, body: String) async throws -> TransportResponse {
        try await transport.post(
            url: configuration.baseURL + path, headers: [], body: body, provider: .firstpay, operation: operation,
            logger: logger)
    }

    /// Error responses (firstpay.md §5) become errors; a 200 body is parsed.
    private func checkedJSON(_ response: TransportResponse, operation: String) throws -> JSONValue {
        let raw = response.bodyText
        if response.status == 200 || response.status == 201 {
            guard let json = try? JSONValue.parse(response.body) else { throw malformed(operation, response) }
            return json
        }
        let errorText = (try? JSONValue.parse(response.body))?["error"]?.stringValue
        let code: ProviderError.Code
        let cls: ErrorClass
        switch response.status {
        case 401:
            // NO_LOGIN, NO_TOKEN, NO_KEY, UNAUTHORIZED: every command would fail.
            code = errorText.map(ProviderError.Code.init(rawValue:)) ?? .unauthorized
            cls = .configuration
        case 404 where errorText == ProviderError.Code.notFound.rawValue:
            code = .notFound
            cls = .notFound
        case 404:
            // Not the documented NOT_FOUND (a wrong F3 path, a proxy's page): it says nothing about the payment,
            // so it must never let F8 re-send a create.
            code = .http(404)
            cls = .providerError
        case 429, 500...599:
            code = .http(response.status)
            cls = .transient
        case 400:
            code = errorText == ProviderError.Code.smsNotRequired.rawValue ? .smsNotRequired : .badRequest
            cls = .invalidCommand
        case 403:
            code = errorText.map(ProviderError.Code.init(rawValue:)) ?? .accessDenied
            cls = .invalidCommand
        default:
            code = .http(response.status)
            cls = .invalidCommand
        }
        throw ProviderError(
            provider: .firstpay, operation: operation, errorClass: cls, code: code,
            message: errorText ?? "provider answered HTTP \(response.status)", httpStatus: response.status,
            retryAfter: response.retryAfter, mayHaveReachedProvider: response.status != 429, rawBody: raw)
    }

    private func paymentResult(_ response: TransportResponse, operation: String) throws -> ProviderResult {
        let json = try checkedJSON(response, operation: operation)
        guard json.objectMembers != nil else { throw malformed(operation, response) }
        if json["hash"] != nil {
            // FirstPay does not document signed responses; a body that carries a `hash` must verify (F2) before
            // it is believed.
            guard postbackVerifier.verify(body: json) else {
                logger.warning("firstpay response hash does not verify", metadata: ["firstpay.operation": "\(operation)"])
                // A per-command provider_error; only a run of them across commands pauses the provider.
                throw ProviderError(
                    provider: .firstpay, operation: operation, errorClass: .providerError,
                    code: .invalidResponseSignature, message: "response hash does not verify (F2)",
                    httpStatus: response.status, mayHaveReachedProvider: true, rawBody: response.bodyText)
            }
        }
        let payment = FirstPayPayment(json: json)
        guard payment.id != nil, payment.status != nil else { throw malformed(operation, response) }
        return payment.result(operation: operation, httpStatus: response.status, rawBody: response.bodyText)
    }

    private func malformed(_ operation: String, _ response: TransportResponse) -> ProviderError {
        ProviderError(
            provider: .firstpay, operation: operation, errorClass: .transient, code: .malformedResponse,
            message: "unusable response body (HTTP \(response.status))", httpStatus: response.status,
            mayHaveReachedProvider: true, rawBody: response.bodyText)
    }

    private func invalid(_ operation: String, _ message: String) -> ProviderError {
        ProviderError(
            provider: .firstpay, operation: operation, errorClass: .invalidCommand, code: .invalidRequest,
            message: message)
    }

    /// F5: the amount as JavaScript prints it, when that is exact.
    private func jsAmount(_ amount: DecimalAmount) -> String? {
        amount.isJavaScriptExact ? amount.minimalText : nil
    }

    private func percentEncode(_ s: String) -> String {
        var out = ""
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."),
                UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(b))
            default:
                let hex = String(b, radix: 16, uppercase: true)
                out += "%" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        return out
    }
}

extension FirstPayClient {
    /// firstpay.md §5: the `error` of a 404 for a payment that does not exist.
    /// Whether a status read's error says the payment does not exist, so a re-send is safe (F8): only HTTP 404
    /// with `{"error": "NOT_FOUND"}`. Any other failure of the read leaves the create's outcome open.
    public static func isPaymentNotFound(_ error: ProviderError) -> Bool {
        error.errorClass == .notFound && error.code == .notFound && error.httpStatus == 404
    }
}
