// Fuzz target: AMQP field tables as they arrive on the wire (message headers, queue and exchange arguments).
// librabbitmq's `amqp_decode_table` parses the bytes (as it does for every received frame); PayBridge's
// `LibRabbitMQDecoding.table` turns the result into Swift values. Properties: no crash, nothing decoded deeper than
// `AMQPTable.maximumDecodedDepth`, and a table decoded exactly (valid UTF-8, within the depth) encodes back (through the arena the client publishes
// with) to bytes that decode to the same table.
@testable import AMQP
import CRabbitMQ

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzAMQPFieldTable(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    var pool = amqp_pool_t()
    init_amqp_pool(&pool, 4096)
    defer { empty_amqp_pool(&pool) }
    var table = amqp_table_t()
    var offset = 0
    let input = amqp_bytes_t(len: size, bytes: UnsafeMutableRawPointer(mutating: data))
    guard amqp_decode_table(input, &pool, &table, &offset) == 0 else { return 0 }
    var problems: AMQPDecodingProblems = []
    let decoded = LibRabbitMQDecoding.table(table, problems: &problems)
    fuzzCheck(depth(of: decoded) <= AMQPTable.maximumDecodedDepth, "decoded deeper than the bound")
    // Decoded exactly (no depth cut, nothing repaired): it must re-encode to the same table.
    if problems.isEmpty {
        let once = encode(decoded, capacity: 2 * size + 64)
        var again = amqp_table_t()
        var againOffset = 0
        var scratch = once
        let status = scratch.withUnsafeMutableBytes { raw in
            amqp_decode_table(amqp_bytes_t(len: raw.count, bytes: raw.baseAddress), &pool, &again, &againOffset)
        }
        fuzzCheck(status == 0, "a table PayBridge encoded does not decode")
        var problemsAgain: AMQPDecodingProblems = []
        let redecoded = LibRabbitMQDecoding.table(again, problems: &problemsAgain)
        fuzzCheck(problemsAgain.isEmpty, "the re-decoded table has problems the original had not")
        fuzzCheck(encode(redecoded, capacity: once.count + 64) == once, "the round trip changed the table")
    }
    return 0
}

private func depth(of table: AMQPTable) -> Int {
    1 + (table.map { depth(of: $0.value) }.max() ?? 0)
}

private func depth(of value: AMQPFieldValue) -> Int {
    switch value {
    case .table(let t): return depth(of: t)
    case .array(let a): return 1 + (a.map { depth(of: $0) }.max() ?? 0)
    default: return 0
    }
}

/// The table's wire bytes, through the same arena the client publishes with.
private func encode(_ table: AMQPTable, capacity: Int) -> [UInt8] {
    let arena = LibRabbitMQArena()
    var cTable = arena.table(table)
    fuzzCheck(arena.oversizedShortString == nil, "an exactly decoded table has a key over 255 bytes")
    var buffer = [UInt8](repeating: 0, count: capacity)
    var offset = 0
    let status = buffer.withUnsafeMutableBytes { raw in
        amqp_encode_table(amqp_bytes_t(len: raw.count, bytes: raw.baseAddress), &cTable, &offset)
    }
    fuzzCheck(status == 0, "encoding a decoded table failed")
    return Array(buffer.prefix(offset))
}
