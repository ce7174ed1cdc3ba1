// Fuzz target: the contract JSON parser (commands, outcome events, schemas).
// Properties: the parser returns or throws (never crashes, never exceeds its limits); what it returns serializes to
// text that parses back to the same value, and serializing that again gives the same bytes (canonical form).
import PayBridgeContract
import StrictJSON

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzContractJSON(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
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
    fuzzCheck(again.serialized() == once, "serialization is not canonical")
    fuzzCheck(value.isSemanticallyEqual(to: again), "value is not semantically equal to itself")
    return 0
}
