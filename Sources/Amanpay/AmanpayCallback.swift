public import PaymentVocabulary
public import ProviderCore
import StrictJSON

/// A7: verifying (A2) and reading an Amanpay callback body: everything ``AmanpayClient/verifyCallback(body:authorization:)``
/// does with outside bytes, without HTTP, so it can be tested and fuzzed on its own.
public enum AmanpayCallback {
    /// Verifies and parses a callback. A callback that fails verification must be neither applied nor answered 2xx.
    /// - Parameters:
    ///   - body: the request body as received.
    ///   - authorization: the `Authorization` header.
    ///   - fields: A2's signed fields, in order (``AmanpayConfiguration/responseSignatureFields``).
    ///   - secret: the merchant's secret key.
    /// - Throws: ``ProviderError`` `INVALID_CALLBACK_SIGNATURE` or `MALFORMED_CALLBACK` (class `invalid_request`).
    public static func verify(body: [UInt8], authorization: String?, fields: [String], secret: Secret) throws
        -> ProviderResult
    {
        guard let json = try? JSONValue.parse(body), json.objectMembers != nil else {
            throw ProviderError(
                provider: .amanpay, operation: "callback", errorClass: .invalidCommand, code: .malformedCallback,
                message: "callback body is not a JSON object")
        }
        guard AmanpaySignature.verifyResponse(json, authorization: authorization, fields: fields, secret: secret) else {
            throw ProviderError(
                provider: .amanpay, operation: "callback", errorClass: .invalidCommand,
                code: .invalidCallbackSignature, message: "callback signature does not verify (A2)")
        }
        let object = AmanpayPaymentObject(json: json)
        guard object.identifiesPayment, object.status != nil else {
            throw ProviderError(
                provider: .amanpay, operation: "callback", errorClass: .invalidCommand, code: .malformedCallback,
                message: "callback names no payment or status")
        }
        return object.result(operation: "callback", httpStatus: nil, rawBody: String(decoding: body, as: UTF8.self))
    }
}
