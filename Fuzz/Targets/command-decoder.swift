// Fuzz target: CommandDecoder, what a worker does with every message body (JSON, CloudEvent envelope, type,
// routing key, JSON Schema).
// Properties: decode returns (a command or a rejection, never a crash); a rejection names a code and the body's
// SHA-256; a decoded command re-serialized as a CloudEvent decodes again to the same command.
import PayBridgeContract

let decoder = CommandDecoder()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCommandDecoder(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = fuzzBytes(data, size)
    switch decoder.decode(bytes) {
    case .failure(let rejection):
        fuzzCheck(!rejection.code.isEmpty, "rejection without a code")
        fuzzCheck(rejection.bodySHA256.utf8.count == 64, "rejection without the body's SHA-256")
    case .success(let command):
        let again = decoder.decode(command.event.serialized(), routingKey: command.kind.routingKey)
        guard case .success(let second) = again else { fatalError("re-serialized command is rejected: \(again)") }
        fuzzCheck(second.id == command.id && second.kind == command.kind, "re-decoded command differs")
        fuzzCheck(second.data == command.data, "re-decoded data differs")
    }
    return 0
}
