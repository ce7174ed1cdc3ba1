import AMQP
import PayBridgeContract
import PayBridgeTracing
import Tracing

/// How trace context travels with PayBridge's messages (OpenTelemetry's messaging conventions): a message
/// published while a span is current carries that span's W3C `traceparent`/`tracestate` in its AMQP headers, and
/// an outcome event also as the CloudEvents `traceparent`/`tracestate` extension attributes; a consumer's span is a
/// child of the context its message carries.
package struct MessageTracing: Sendable {
    package let tracer: any Tracer

    package init(tracer: any Tracer) {
        self.tracer = tracer
    }

    /// The current span's headers (`nil` outside a span, or with a tracer that does not propagate).
    package var current: TraceHeaders? {
        guard let context = ServiceContext.current else { return nil }
        return TraceHeaders(of: context, tracer: tracer)
    }

    /// `properties` with the current span's trace headers (replacing any the message carried).
    package func stamped(_ properties: AMQPProperties, with headers: TraceHeaders?) -> AMQPProperties {
        guard let headers else { return properties }
        var properties = properties
        var table = properties.headers ?? AMQPTable()
        table[PayBridgeTracer.traceparentKey] = .string(headers.traceparent)
        if let state = headers.tracestate {
            table[PayBridgeTracer.tracestateKey] = .string(state)
        } else {
            table[PayBridgeTracer.tracestateKey] = nil
        }
        properties.headers = table
        return properties
    }

    /// The parent context a delivery carries: its AMQP `traceparent` header, else (a command) its CloudEvents
    /// `traceparent` attribute; empty when neither is valid (the span then starts a new trace).
    package func parent(of properties: AMQPProperties, event: CloudEvent? = nil) -> ServiceContext {
        var context = ServiceContext.topLevel
        if let headers = properties.headers, headers[PayBridgeTracer.traceparentKey] != nil {
            tracer.extract(headers, into: &context, using: AMQPHeadersExtractor())
            if TraceHeaders(of: context, tracer: tracer) != nil { return context }
        }
        if let event, case .string(let traceparent)? = event.extensions[PayBridgeTracer.traceparentKey] {
            var carrier = [PayBridgeTracer.traceparentKey: traceparent]
            if case .string(let state)? = event.extensions[PayBridgeTracer.tracestateKey] {
                carrier[PayBridgeTracer.tracestateKey] = state
            }
            tracer.extract(carrier, into: &context, using: DictionaryExtractor())
        }
        return context
    }
}

extension OutcomeMessage {
    /// The event with the trace headers as CloudEvents extension attributes (`traceparent`, `tracestate`).
    package func traced(_ headers: TraceHeaders?) -> OutcomeMessage {
        guard let headers else { return self }
        return withTraceContext(traceparent: headers.traceparent, tracestate: headers.tracestate)
    }
}
