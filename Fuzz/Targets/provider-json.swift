// Fuzz target: the provider JSON parser (Amanpay/FirstPay responses and callbacks, the sandbox).
// Properties: returns or throws; a parsed value serializes to text that parses back to the same value (member
// order and number text kept), and serializing that again gives the same text.
import ProviderCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzProviderJSON(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = fuzzBytes(data, size)
    guard let value = try? JSONValue.parse(bytes) else { return 0 }
    let once = value.serialized()
    let again: JSONValue
    do {
        again = try JSONValue.parse(once)
    } catch {
        fatalError("serialized value does not parse: \(error)")
    }
    fuzzCheck(again == value, "re-parsed value differs")
    fuzzCheck(again.serialized() == once, "serialization is not stable")
    if case .number(let text) = value {
        // Every JSON number is a DecimalAmount, except that DecimalAmount refuses exponents beyond ±400.
        fuzzCheck(
            DecimalAmount(text) != nil || text.contains(where: { $0 == "e" || $0 == "E" }),
            "a JSON number without exponent is not a DecimalAmount")
    }
    return 0
}
