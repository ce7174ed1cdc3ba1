import PayBridgeTracing
import Testing
import Tracing

/// W3C Trace Context as PayBridge reads and writes it, and its tracer's parent/child links, without I/O.
@Suite struct TraceContextTests {
    static let valid = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

    @Test func aValidTraceparentIsReadAndWrittenBackUnchanged() throws {
        let context = try #require(TraceContext(traceparent: Self.valid, tracestate: "vendor=abc"))
        #expect(context.traceID == "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(context.spanIDString == "00f067aa0ba902b7")
        #expect(context.sampled)
        #expect(context.traceState == "vendor=abc")
        #expect(context.traceparent == Self.valid)
    }

    @Test(arguments: [
        "",                                                             // empty
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",         // no flags
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",      // upper case
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",      // zero trace id
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",      // zero span id
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",      // forbidden version
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra", // version 00 with more
        "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",      // wrong separator
        "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",      // not hex
        "0-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",       // short version
        "😀😀-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    ])
    func anInvalidTraceparentIsIgnored(_ traceparent: String) {
        #expect(TraceContext(traceparent: traceparent) == nil)
    }

    @Test func aLaterVersionIsReadByItsFirstFieldsAndAHugeValueCostsNothing() throws {
        let later = "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-what-comes-next"
        let context = try #require(TraceContext(traceparent: later))
        #expect(!context.sampled)
        #expect(context.traceparent == "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00")
        let huge = Self.valid + String(repeating: "x", count: 1_000_000)
        #expect(TraceContext(traceparent: huge) == nil, "version 00 is exactly 55 characters")
    }

    @Test func anUnusableTracestateIsDroppedButTheTraceparentKept() throws {
        let long = String(repeating: "a", count: TraceContext.maximumTraceStateBytes + 1)
        for state in [long, "bad\u{7f}", "tab\tstate", ""] {
            let context = try #require(TraceContext(traceparent: Self.valid, tracestate: state))
            #expect(context.traceState == nil)
        }
    }

    @Test func everyContextIsWrittenAsTheTraceparentItIsReadFrom() throws {
        let widths: [UInt64] = [1, 0xf, 0x10, 0xffff_ffff, 0x0123_4567_89ab_cdef, .max]
        for high in widths + [0] {
            for low in widths {
                for span in widths {
                    let context = TraceContext(traceIDHigh: high, traceIDLow: low, spanID: span, sampled: span & 1 == 1)
                    let text = context.traceparent
                    #expect(text.utf8.count == 55)
                    #expect(TraceContext(traceparent: text) == context, "\(text)")
                    #expect(context.traceID == text.dropFirst(3).prefix(32).description)
                    #expect(context.spanIDString == text.dropFirst(36).prefix(16).description)
                }
            }
        }
    }

    @Test func aChildKeepsTheTraceAndGetsItsOwnSpanId() throws {
        let parent = try #require(TraceContext(traceparent: Self.valid))
        let child = parent.child()
        #expect(child.traceID == parent.traceID)
        #expect(child.spanID != parent.spanID && child.spanID != 0)
        let first = TraceContext.newTrace(), second = TraceContext.newTrace()
        #expect(first.traceID != second.traceID)
        #expect(TraceContext(traceparent: first.traceparent) == first)
    }

    @Test func theTracerContinuesAnExtractedParentAndInjectsItsOwnSpan() async throws {
        let recorder = InMemorySpanRecorder()
        let tracer = PayBridgeTracer(recorder: recorder)
        var parent = ServiceContext.topLevel
        tracer.extract(["traceparent": Self.valid, "tracestate": "v=1"], into: &parent, using: DictionaryExtractor())
        let injected: [String: String] = tracer.withSpan("process payments.amanpay", context: parent,
                                                         ofKind: .consumer) { span in
            span.attributes["paybridge.command_id"] = "cmd-1"
            tracer.withSpan("POST amanpay purchase", ofKind: .client) { _ in }
            var carrier: [String: String] = [:]
            tracer.inject(span.context, into: &carrier, using: DictionaryInjector())
            return carrier
        }
        let spans = recorder.spans
        #expect(spans.count == 2)
        let process = try #require(spans.first { $0.kind == .consumer })
        let client = try #require(spans.first { $0.kind == .client })
        #expect(process.context.traceID == "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(process.parentSpanID == 0x00f0_67aa_0ba9_02b7 && process.parentIsRemote)
        #expect(client.context.traceID == process.context.traceID)
        #expect(client.parentSpanID == process.context.spanID && !client.parentIsRemote)
        #expect(process.attribute("paybridge.command_id") == "cmd-1")
        #expect(injected["traceparent"] == process.context.traceparent)
        #expect(injected["tracestate"] == "v=1", "tracestate travels on unchanged")
    }

    @Test func withoutARecorderSpansStillPropagateButRecordNothing() throws {
        let tracer = PayBridgeTracer()
        let headers: TraceHeaders? = tracer.withSpan("process", ofKind: .consumer) { span in
            #expect(!span.isRecording)
            return TraceHeaders(of: span.context, tracer: tracer)
        }
        let found = try #require(headers)
        #expect(TraceContext(traceparent: found.traceparent) != nil)
        #expect(found.traceID.count == 32)
    }

    @Test func aSpanLinkKeepsTheLinkedTrace() throws {
        let recorder = InMemorySpanRecorder()
        let tracer = PayBridgeTracer(recorder: recorder)
        let linked = TraceHeaders(traceparent: Self.valid).context(tracer: tracer)
        tracer.withSpan("callback amanpay", context: .topLevel, ofKind: .server) { span in
            span.addLink(SpanLink(context: linked, attributes: [:]))
        }
        let span = try #require(recorder.spans.first)
        #expect(span.parentSpanID == nil, "a callback starts a new trace")
        #expect(span.context.traceID != "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(span.links.map(\.traceID) == ["4bf92f3577b34da6a3ce929d0e0e4736"])
    }

    /// Ids come from blocks of 64 random words: across several blocks (and from several threads at once) no id
    /// repeats, which a block handed out twice or not refilled would break.
    @Test func randomWordsNeverRepeatAcrossBlocks() async {
        let perTask = 1_000
        let words = await withTaskGroup(of: [UInt64].self) { group in
            for _ in 0..<4 {
                group.addTask {
                    var random = RandomWords()
                    return (0..<perTask).map { _ in random.next() }
                }
            }
            return await group.reduce(into: []) { $0 += $1 }
        }
        #expect(Set(words).count == 4 * perTask)
    }
}
