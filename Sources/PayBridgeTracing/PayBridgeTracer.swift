import Tracing

/// PayBridge's own tracer: W3C Trace Context ids and propagation (`traceparent`, `tracestate`), spans handed to a
/// ``SpanRecorder`` when they end.
///
/// It is the tracer when no OTLP exporter is configured: trace context then still flows from a command to its
/// provider calls and events (and logs carry the trace id), at the cost of a random number or two (drawn in blocks,
/// ``RandomWords``) and a lock per span; nothing is stored or exported. Tests give it an ``InMemorySpanRecorder``.
public struct PayBridgeTracer: Tracer {
    public typealias Span = PayBridgeSpan

    public static let traceparentKey = "traceparent"
    public static let tracestateKey = "tracestate"

    let recorder: (any SpanRecorder)?

    public init(recorder: (any SpanRecorder)? = nil) {
        self.recorder = recorder
    }

    public func startSpan<Instant: TracerInstant>(
        _ operationName: String, context: @autoclosure () -> ServiceContext, ofKind kind: SpanKind,
        at instant: @autoclosure () -> Instant, function: String, file fileID: String, line: UInt
    ) -> PayBridgeSpan {
        let parentContext = context()
        let parent = parentContext.traceContext
        let remote = parentContext[RemoteParentKey.self] ?? false
        var childContext = parentContext
        childContext[RemoteParentKey.self] = nil
        return PayBridgeSpan(
            operationName: operationName, context: childContext, traceContext: parent?.child() ?? .newTrace(),
            kind: kind, parentSpanID: parent?.spanID, parentIsRemote: parent != nil && remote,
            startNanoseconds: instant().nanosecondsSinceEpoch, recorder: recorder)
    }

    public func activeSpan(identifiedBy context: ServiceContext) -> PayBridgeSpan? { nil }

    public func forceFlush() {}

    public func extract<Carrier, Extract: Extractor>(_ carrier: Carrier, into context: inout ServiceContext,
                                                     using extractor: Extract) where Extract.Carrier == Carrier {
        guard let traceparent = extractor.extract(key: Self.traceparentKey, from: carrier),
              let remote = TraceContext(traceparent: traceparent,
                                        tracestate: extractor.extract(key: Self.tracestateKey, from: carrier))
        else { return }
        context.traceContext = remote
        context[RemoteParentKey.self] = true
    }

    public func inject<Carrier, Inject: Injector>(_ context: ServiceContext, into carrier: inout Carrier,
                                                  using injector: Inject) where Inject.Carrier == Carrier {
        guard let trace = context.traceContext else { return }
        injector.inject(trace.traceparent, forKey: Self.traceparentKey, into: &carrier)
        if let state = trace.traceState { injector.inject(state, forKey: Self.tracestateKey, into: &carrier) }
    }
}

/// Marks a ``TraceContext`` that ``PayBridgeTracer/extract(_:into:using:)`` read from a carrier (its span is in
/// another process).
enum RemoteParentKey: ServiceContextKey {
    typealias Value = Bool
}
