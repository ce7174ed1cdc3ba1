import FirstPay
import PayBridgeContract
import PayBridgeRules
import PaymentVocabulary
import ProviderCore
import StrictJSON

/// Executes `firstpay.*` commands with ``FirstPayClient``.
struct FirstPayCommandExecutor: PaymentCommandExecutor {
    let client: FirstPayClient
    var provider: Provider { .firstpay }

    func execute(_ command: PaymentCommand, statusFirst: Bool) async throws -> ProviderResult {
        let data = CommandData(data: command.data)
        switch command.kind {
        case .firstpayPayIn, .firstpayPayOut:
            let request = try paymentRequest(data)
            // F8: with statusFirst the client reads the status by merchantPaymentId first; creates only on NOT_FOUND.
            return command.kind == .firstpayPayIn
                ? try await client.payIn(request, statusFirst: statusFirst)
                : try await client.payOut(request, statusFirst: statusFirst)
        case .firstpayStatus:
            return try await client.status(
                paymentId: data.optionalString("paymentId"), merchantPaymentId: data.optionalString("merchantPaymentId"))
        case .firstpaySMS:
            let paymentId = try data.string("paymentId")
            let confirmation = try await client.confirmSMS(paymentId: paymentId, code: try data.string("code"))
            // The SMS answer is only {"isSucceed": …}; the payment's state follows by postback.
            return ProviderResult(
                provider: .firstpay, operation: "sms",
                status: confirmation.isSucceed ? .processing : .requiresAction,
                providerStatus: confirmation.isSucceed ? "SMS_ACCEPTED" : "SMS_REJECTED",
                providerPaymentId: paymentId, merchantPaymentId: data.optionalString("merchantPaymentId"),
                error: confirmation.isSucceed
                    ? nil
                    : OutcomeError(code: "SMS_REJECTED", message: "FirstPay did not accept the SMS code",
                                        errorClass: .invalidCommand),
                httpStatus: 200, rawBody: confirmation.rawBody)
        default:
            throw CommandDataError(field: "type", problem: "\(command.type) is not a FirstPay command")
        }
    }

    /// F2 + F8: the postback verified, then the payment's status by its `id` (and `merchantPaymentId`), both signed
    /// (F1 signs every top-level field). FirstPay's 404 `NOT_FOUND` is thrown as `not_found`.
    func confirm(_ notification: CallbackNotification) async throws -> CallbackConfirmation {
        let claim = try client.verifyPostback(body: notification.body)
        let read = try await client.status(paymentId: claim.providerPaymentId, merchantPaymentId: claim.merchantPaymentId)
        let kind = CallbackHandler.kind(provider: .firstpay, raw: read.rawJSON ?? .null)
            ?? CallbackHandler.kind(provider: .firstpay, raw: claim.rawJSON ?? .null)
        return .confirmed(claim: claim, read: read, kind: kind)
    }

    /// F8: `status` by the provider's `id` when known, and the `merchantPaymentId`.
    func check(_ check: ReconcileCheck) async throws -> ProviderResult {
        try await client.status(paymentId: check.providerPaymentId, merchantPaymentId: check.paymentId)
    }

    /// The payment methods, fetched fresh: one method by id, or the list (of one type when the query names it).
    func paymentMethods(_ query: PaymentMethodsQuery) async throws -> JSONValue {
        try await client.paymentMethods(
            id: query.methodId, type: query.paymentType.flatMap(FirstPayPaymentType.init(rawValue:)),
            locale: query.locale, merchantPaymentId: query.merchantPaymentId, merchantUserId: query.merchantUserId,
            amount: query.amount, level: query.level)
    }

    private func paymentRequest(_ data: CommandData) throws -> FirstPayPaymentRequest {
        guard let fields = data.data["clientFieldsValues"]?.arrayValue else {
            throw CommandDataError(field: "clientFieldsValues", problem: "must be an array")
        }
        let clientFields = try fields.map { item -> FirstPayClientField in
            guard let key = item["key"]?.stringValue, let value = item["value"]?.stringValue else {
                throw CommandDataError(field: "clientFieldsValues", problem: "items need string key and value")
            }
            return FirstPayClientField(key: key, value: value)
        }
        return FirstPayPaymentRequest(
            accountId: try data.integer("accountId"), paymentMethodId: try data.string("paymentMethodId"),
            amount: try data.amount(), clientFieldsValues: clientFields,
            merchantPaymentId: try data.string("merchantPaymentId"),
            merchantUserId: data.optionalString("merchantUserId"),
            successRedirectUrl: data.optionalString("successRedirectUrl"),
            failureRedirectUrl: data.optionalString("failureRedirectUrl"),
            postBackUrl: data.optionalString("postBackUrl"), attachmentId: data.optionalString("attachmentId"))
    }
}
