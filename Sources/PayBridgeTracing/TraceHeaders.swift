import Tracing

/// A context's W3C headers as strings, whatever the tracer: what PayBridge writes into AMQP headers, CloudEvents
/// attributes and logs.
public struct TraceHeaders: Sendable, Equatable {
    public var traceparent: String
    public var tracestate: String?

    public init(traceparent: String, tracestate: String? = nil) {
        self.traceparent = traceparent
        self.tracestate = tracestate
    }

    /// The headers `tracer` injects for `context`; `nil` when it injects no valid `traceparent` (no span, or a
    /// tracer that does not propagate).
    public init?(of context: ServiceContext, tracer: any Tracer) {
        if tracer is PayBridgeTracer {
            // PayBridge's own tracer keeps the validated context itself: what it would inject, without a dictionary
            // and a second parse (this runs for every delivery and every publish).
            guard let trace = context.traceContext else { return nil }
            self.init(traceparent: trace.traceparent, tracestate: trace.traceState)
            return
        }
        var carrier: [String: String] = [:]
        tracer.inject(context, into: &carrier, using: DictionaryInjector())
        guard let traceparent = carrier[PayBridgeTracer.traceparentKey],
              let parsed = TraceContext(traceparent: traceparent) else { return nil }
        self.init(traceparent: parsed.traceparent,
                  tracestate: carrier[PayBridgeTracer.tracestateKey].flatMap {
                      TraceContext(traceparent: traceparent, tracestate: $0)?.traceState
                  })
    }

    /// The trace id (32 hex digits).
    public var traceID: String { TraceContext(traceparent: traceparent).map(\.traceID) ?? "" }

    /// The context `tracer` extracts from these headers (a remote parent).
    public func context(tracer: any Tracer) -> ServiceContext {
        var context = ServiceContext.topLevel
        tracer.extract(asDictionary, into: &context, using: DictionaryExtractor())
        return context
    }

    public var asDictionary: [String: String] {
        var dictionary = [PayBridgeTracer.traceparentKey: traceparent]
        if let tracestate { dictionary[PayBridgeTracer.tracestateKey] = tracestate }
        return dictionary
    }
}

public struct DictionaryInjector: Injector {
    public init() {}
    public func inject(_ value: String, forKey key: String, into carrier: inout [String: String]) {
        carrier[key] = value
    }
}

public struct DictionaryExtractor: Extractor {
    public init() {}
    public func extract(key: String, from carrier: [String: String]) -> String? { carrier[key] }
}
