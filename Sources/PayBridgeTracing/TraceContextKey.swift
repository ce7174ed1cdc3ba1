import Tracing

/// Where ``PayBridgeTracer`` keeps a span's ``TraceContext`` in an `InstrumentationContext` (`ServiceContext`).
enum TraceContextKey: ServiceContextKey {
    typealias Value = TraceContext
    static var nameOverride: String? { "paybridge-trace-context" }
}

extension ServiceContext {
    /// The W3C context of the span (or the remote parent) ``PayBridgeTracer`` put here; `nil` with another tracer.
    public var traceContext: TraceContext? {
        get { self[TraceContextKey.self] }
        set { self[TraceContextKey.self] = newValue }
    }
}
