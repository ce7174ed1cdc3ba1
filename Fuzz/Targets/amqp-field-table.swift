// Fuzz target (TODO, not in the default list of scripts/fuzz.sh): the AMQP field-table decoder.
//
// Plan: feed the input to librabbitmq's `amqp_decode_table` (exported by librabbitmq.so.4: `nm -D` lists it) and
// convert the result with `LibRabbitMQDecoding.table/fieldValue` (Sources/AMQP/LibRabbitMQ/LibRabbitMQArena.swift),
// once that conversion has its depth bound. Needs the AMQP module and CRabbitMQ/CRabbitMQShims on the command
// line: add an `AMQP` module entry to scripts/fuzz.sh (sources, `-I Sources/CRabbitMQ`, `-lrabbitmq`).

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzAMQPFieldTable(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    0
}
