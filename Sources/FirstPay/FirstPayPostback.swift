public import PaymentVocabulary
import ProviderCore
import StrictJSON

/// F2: verifying and reading a FirstPay postback body: everything ``FirstPayClient/verifyPostback(body:)`` does with
/// outside bytes, without HTTP, so it can be tested and fuzzed on its own.
public enum FirstPayPostback {
    /// Verifies and parses a postback. Every postback is a new fact (a flip SUCCESS ↔ FAILED is a correction);
    /// duplicates (same `id` and `status`, F7) are the caller's to recognise.
    /// - Parameters:
    ///   - body: the request body as received.
    ///   - verifier: FirstPay's public key and the canonicalizer (F2).
    /// - Throws: `INVALID_POSTBACK_SIGNATURE` / `MALFORMED_POSTBACK` (class `invalid_request`).
    public static func verify(body: [UInt8], verifier: FirstPayVerifier) throws -> ProviderResult {
        guard let json = try? JSONValue.parse(body), json.objectMembers != nil else {
            throw ProviderError(
                provider: .firstpay, operation: "postback", errorClass: .invalidCommand, code: .malformedPostback,
                message: "postback body is not a JSON object")
        }
        guard verifier.verify(body: json) else {
            throw ProviderError(
                provider: .firstpay, operation: "postback", errorClass: .invalidCommand,
                code: .invalidPostbackSignature, message: "postback hash does not verify (F2)")
        }
        let payment = FirstPayPayment(json: json)
        guard payment.id != nil, payment.status != nil else {
            throw ProviderError(
                provider: .firstpay, operation: "postback", errorClass: .invalidCommand, code: .malformedPostback,
                message: "postback names no payment or status")
        }
        return payment.result(operation: "postback", httpStatus: nil, rawBody: String(decoding: body, as: UTF8.self))
    }
}
