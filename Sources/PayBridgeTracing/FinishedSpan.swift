import Tracing

/// A span that ended, as ``PayBridgeTracer`` hands it to its ``SpanRecorder``.
public struct FinishedSpan: Sendable {
    public var operationName: String
    public var kind: SpanKind
    /// This span's ids (its trace id, its span id).
    public var context: TraceContext
    /// The parent span's id; `nil` for a trace's first span.
    public var parentSpanID: UInt64?
    /// Whether the parent came from another process (a `traceparent` read from a message or request).
    public var parentIsRemote: Bool
    public var attributes: SpanAttributes
    public var status: SpanStatus?
    public var events: [SpanEvent]
    /// The spans this one is linked to (a callback's link to the trace its payment started in, when known).
    public var links: [TraceContext]
    public var startNanoseconds: UInt64
    public var endNanoseconds: UInt64
    public var errors: [String]

    /// A string attribute's value, for tests and logs.
    public func attribute(_ name: String) -> String? {
        guard let value = attributes.get(name) else { return nil }
        switch value {
        case .string(let text): return text
        case .int64(let number): return String(number)
        case .int32(let number): return String(number)
        case .bool(let flag): return String(flag)
        default: return "\(value)"
        }
    }
}

/// Receives every span ``PayBridgeTracer`` ends: nothing by default (trace context is still propagated), an
/// ``InMemorySpanRecorder`` in tests.
public protocol SpanRecorder: Sendable {
    func record(_ span: FinishedSpan)
}
