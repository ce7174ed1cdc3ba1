// Fuzz target: TraceContext, the W3C `traceparent`/`tracestate` parser (what arrives in AMQP headers, HTTP headers of
// provider callbacks and the CloudEvents attribute of commands).
// Input: traceparent bytes, then (after the first NUL, if any) tracestate bytes; both decoded as UTF-8 with repair,
// as header strings arrive.
// Properties: parsing returns; a parsed context writes a version-00 `traceparent` of 55 lower-case characters that
// parses back to the same ids and flag; a kept `tracestate` is at most 512 printable ASCII characters; a child keeps
// the trace and gets a non-zero span id.
import PayBridgeTracing

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTraceContext(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = fuzzBytes(data, size)
    let split = bytes.firstIndex(of: 0)
    let traceparent = String(decoding: bytes[..<(split ?? bytes.endIndex)], as: UTF8.self)
    let tracestate = split.map { String(decoding: bytes[bytes.index(after: $0)...], as: UTF8.self) }
    guard let context = TraceContext(traceparent: traceparent, tracestate: tracestate) else { return 0 }
    let written = context.traceparent
    fuzzCheck(written.utf8.count == 55, "traceparent of \(written.utf8.count) characters")
    fuzzCheck(written.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) || $0 == 45 },
              "not lower-case hex: \(written)")
    let reread = TraceContext(traceparent: written)
    fuzzCheck(reread?.traceID == context.traceID && reread?.spanID == context.spanID
              && reread?.sampled == context.sampled, "\(written) does not read back")
    fuzzCheck(context.traceIDHigh != 0 || context.traceIDLow != 0, "zero trace id accepted")
    fuzzCheck(context.spanID != 0, "zero span id accepted")
    if let state = context.traceState {
        fuzzCheck(state.utf8.count <= TraceContext.maximumTraceStateBytes
                  && state.utf8.allSatisfy { (0x20...0x7e).contains($0) }, "unbounded tracestate kept")
    }
    let child = context.child()
    fuzzCheck(child.traceID == context.traceID && child.spanID != 0, "child left the trace")
    return 0
}
