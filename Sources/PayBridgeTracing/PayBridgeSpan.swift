import Synchronization
import Tracing

/// A span of ``PayBridgeTracer``: W3C ids, attributes, status, events and links, handed to the tracer's
/// ``SpanRecorder`` once when it ends (nothing is kept when there is no recorder).
public final class PayBridgeSpan: Span {
    private struct State {
        var operationName: String
        var attributes: SpanAttributes = [:]
        var status: SpanStatus?
        var events: [SpanEvent] = []
        var links: [TraceContext] = []
        var errors: [String] = []
        var ended = false
    }

    public let context: ServiceContext
    public let traceContext: TraceContext
    let kind: SpanKind
    let parentSpanID: UInt64?
    let parentIsRemote: Bool
    let startNanoseconds: UInt64
    private let recorder: (any SpanRecorder)?
    private let state: Mutex<State>

    init(operationName: String, context: ServiceContext, traceContext: TraceContext, kind: SpanKind,
         parentSpanID: UInt64?, parentIsRemote: Bool, startNanoseconds: UInt64, recorder: (any SpanRecorder)?) {
        var context = context
        context.traceContext = traceContext
        self.context = context
        self.traceContext = traceContext
        self.kind = kind
        self.parentSpanID = parentSpanID
        self.parentIsRemote = parentIsRemote
        self.startNanoseconds = startNanoseconds
        self.recorder = recorder
        state = Mutex(State(operationName: operationName))
    }

    /// Records only with a recorder: without one, the span exists for its ids (propagation) and costs no storage.
    public var isRecording: Bool { recorder != nil && !state.withLock { $0.ended } }

    public var operationName: String {
        get { state.withLock { $0.operationName } }
        set { state.withLock { if !$0.ended { $0.operationName = newValue } } }
    }

    public var attributes: SpanAttributes {
        get { state.withLock { $0.attributes } }
        set {
            guard recorder != nil else { return }
            state.withLock { if !$0.ended { $0.attributes = newValue } }
        }
    }

    public func setStatus(_ status: SpanStatus) {
        state.withLock { if !$0.ended { $0.status = status } }
    }

    public func addEvent(_ event: SpanEvent) {
        guard recorder != nil else { return }
        state.withLock { if !$0.ended { $0.events.append(event) } }
    }

    public func recordError<Instant: TracerInstant>(_ error: any Error, attributes: SpanAttributes,
                                                    at instant: @autoclosure () -> Instant) {
        guard recorder != nil else { return }
        let text = String(describing: error)
        state.withLock { if !$0.ended { $0.errors.append(text) } }
    }

    public func addLink(_ link: SpanLink) {
        guard recorder != nil, let linked = link.context.traceContext else { return }
        state.withLock { if !$0.ended { $0.links.append(linked) } }
    }

    public func end<Instant: TracerInstant>(at instant: @autoclosure () -> Instant) {
        let ended = state.withLock { state -> State? in
            guard !state.ended else { return nil }
            state.ended = true
            return state
        }
        guard let ended, let recorder else { return }
        recorder.record(FinishedSpan(
            operationName: ended.operationName, kind: kind, context: traceContext, parentSpanID: parentSpanID,
            parentIsRemote: parentIsRemote, attributes: ended.attributes, status: ended.status, events: ended.events,
            links: ended.links, startNanoseconds: startNanoseconds, endNanoseconds: instant().nanosecondsSinceEpoch,
            errors: ended.errors))
    }
}
