// Fuzz target: AmanpayCallback.verify, what the callback server does with an Amanpay callback body (A2, A7).
// Properties: verify returns or throws a ProviderError (never crashes); a body signed with the secret (the
// Authorization header computed here) never fails as INVALID_CALLBACK_SIGNATURE, and a wrong header never verifies.
import Amanpay
import PaymentVocabulary
import ProviderCore
import StrictJSON

let secret: Secret = "fuzz-secret"
let fields = AmanpaySignature.defaultResponseFields

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzAmanpayCallback(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let body = fuzzBytes(data, size)
    func code(_ authorization: String?) -> String? {
        do {
            _ = try AmanpayCallback.verify(body: body, authorization: authorization, fields: fields, secret: secret)
            return nil
        } catch let error as ProviderError {
            return error.code.rawValue
        } catch {
            fatalError("verify threw \(error), not a ProviderError")
        }
    }
    let wrong = code("0000")
    fuzzCheck(wrong != nil, "a wrong Authorization verified")
    guard let json = try? JSONValue.parse(body), json.objectMembers != nil,
        AmanpaySignature.responseValues(of: json, fields: fields) != nil
    else { return 0 }
    let signed = code(" " + AmanpaySignature.signResponse(json, fields: fields, secret: secret).uppercased() + "\t")
    fuzzCheck(signed != "INVALID_CALLBACK_SIGNATURE", "a correctly signed callback does not verify")
    fuzzCheck(signed == nil || signed == "MALFORMED_CALLBACK", "unexpected code \(signed ?? "")")
    return 0
}
