// Fuzz target: the JSON parser as provider code uses it (Amanpay/FirstPay responses and callbacks, the sandbox):
// member order kept. Properties: returns or throws; a parsed value's compact text (members in order, numbers as
// written) parses back to the same value with the same text, and every number without exponent is a DecimalAmount.
import PaymentVocabulary
import ProviderCore
import StrictJSON

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzProviderJSON(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = fuzzBytes(data, size)
    guard let value = try? JSONValue.parse(bytes) else { return 0 }
    let once = value.compactText
    let again: JSONValue
    do {
        again = try JSONValue.parse(once)
    } catch {
        fatalError("serialized value does not parse: \(error)")
    }
    fuzzCheck(again == value, "re-parsed value differs")
    fuzzCheck(again.compactText == once, "member order or number text changed")
    if case .number(let number) = value {
        let text = number.text
        // Every JSON number is a DecimalAmount, except that DecimalAmount refuses exponents beyond ±400.
        fuzzCheck(
            DecimalAmount(text) != nil || text.contains(where: { $0 == "e" || $0 == "E" }),
            "a JSON number without exponent is not a DecimalAmount")
    }
    return 0
}
