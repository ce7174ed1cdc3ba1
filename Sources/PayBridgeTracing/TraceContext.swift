/// One span's W3C Trace Context (https://www.w3.org/TR/trace-context/): the ids a `traceparent` carries, plus the
/// vendor `tracestate` passed on unchanged.
///
/// Parsing is strict and bounded: a `traceparent` is read only when it is exactly version `00`'s 55 characters (or a
/// later version's first 55 followed by `-`), lower-case hex, with non-zero ids; a `tracestate` only when it is at
/// most ``maximumTraceStateBytes`` of printable ASCII. Anything else is ignored: a span then starts a new trace,
/// which is what the specification asks of a receiver.
public struct TraceContext: Sendable, Hashable {
    /// The trace id: 16 bytes, as two big-endian halves.
    public var traceIDHigh: UInt64
    public var traceIDLow: UInt64
    /// This span's id (8 bytes).
    public var spanID: UInt64
    /// The `sampled` flag.
    public var sampled: Bool
    /// The vendor-specific `tracestate`, passed on unchanged.
    public var traceState: String?

    public static let maximumTraceStateBytes = 512

    public init(traceIDHigh: UInt64, traceIDLow: UInt64, spanID: UInt64, sampled: Bool = true,
                traceState: String? = nil) {
        self.traceIDHigh = traceIDHigh
        self.traceIDLow = traceIDLow
        self.spanID = spanID
        self.sampled = sampled
        self.traceState = traceState
    }

    /// A new trace's first span.
    public static func newTrace() -> TraceContext {
        var random = RandomWords()
        var high: UInt64 = 0, low: UInt64 = 0
        while high == 0 && low == 0 {
            high = random.next()
            low = random.next()
        }
        return TraceContext(traceIDHigh: high, traceIDLow: low, spanID: Self.newSpanID(&random))
    }

    /// A child span's context: the same trace, a new span id.
    public func child() -> TraceContext {
        var random = RandomWords()
        var child = self
        child.spanID = Self.newSpanID(&random)
        return child
    }

    private static func newSpanID(_ random: inout RandomWords) -> UInt64 {
        var id: UInt64 = 0
        while id == 0 { id = random.next() }
        return id
    }

    /// Parses a `traceparent` (and its `tracestate`); `nil` when the `traceparent` is not valid.
    public init?(traceparent: some StringProtocol, tracestate: String? = nil) {
        let bytes = Array(traceparent.utf8.prefix(56))
        guard bytes.count >= 55 else { return nil }
        guard let version = Self.hex(bytes[0..<2]), version != 0xff,
              bytes[2] == UInt8(ascii: "-"), bytes[35] == UInt8(ascii: "-"), bytes[52] == UInt8(ascii: "-"),
              let high = Self.hex(bytes[3..<19]), let low = Self.hex(bytes[19..<35]),
              let span = Self.hex(bytes[36..<52]), let flags = Self.hex(bytes[53..<55]),
              high != 0 || low != 0, span != 0
        else { return nil }
        if version == 0 {
            guard bytes.count == 55 else { return nil }
        } else if bytes.count > 55 {
            guard bytes[55] == UInt8(ascii: "-") else { return nil }  // a later version's extra fields
        }
        self.init(traceIDHigh: high, traceIDLow: low, spanID: span, sampled: flags & 1 == 1,
                  traceState: tracestate.flatMap { Self.validTraceState($0) })
    }

    /// The `traceparent` header value (version 00).
    public var traceparent: String {
        String(unsafeUninitializedCapacity: 55) { text in
            for (offset, byte) in "00-".utf8.enumerated() { text[offset] = byte }
            Self.writeHex(traceIDHigh, into: text, at: 3)
            Self.writeHex(traceIDLow, into: text, at: 19)
            text[35] = UInt8(ascii: "-")
            Self.writeHex(spanID, into: text, at: 36)
            text[52] = UInt8(ascii: "-")
            text[53] = UInt8(ascii: "0")
            text[54] = sampled ? UInt8(ascii: "1") : UInt8(ascii: "0")
            return 55
        }
    }

    /// The trace id as 32 lower-case hex digits: what tools and logs show.
    public var traceID: String {
        String(unsafeUninitializedCapacity: 32) { text in
            Self.writeHex(traceIDHigh, into: text, at: 0)
            Self.writeHex(traceIDLow, into: text, at: 16)
            return 32
        }
    }

    /// The span id as 16 lower-case hex digits.
    public var spanIDString: String {
        String(unsafeUninitializedCapacity: 16) { text in
            Self.writeHex(spanID, into: text, at: 0)
            return 16
        }
    }

    private static func validTraceState(_ value: String) -> String? {
        let utf8 = value.utf8
        guard !utf8.isEmpty, utf8.count <= maximumTraceStateBytes,
              utf8.allSatisfy({ (0x20...0x7e).contains($0) }) else { return nil }
        return value
    }

    /// Lower-case hex only (W3C forbids upper case); `nil` for anything else.
    private static func hex(_ digits: ArraySlice<UInt8>) -> UInt64? {
        var value: UInt64 = 0
        for digit in digits {
            let nibble: UInt8
            switch digit {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = digit - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = digit - UInt8(ascii: "a") + 10
            default: return nil
            }
            value = value << 4 | UInt64(nibble)
        }
        return value
    }

    /// Writes `value` as 16 lowercase hex digits at `offset` (one string allocation per id, not one per piece: this
    /// runs for every delivery and every publish).
    private static func writeHex(_ value: UInt64, into text: UnsafeMutableBufferPointer<UInt8>, at offset: Int) {
        let digits: StaticString = "0123456789abcdef"
        digits.withUTF8Buffer { digits in
            for index in 0..<16 {
                text[offset + index] = digits[Int(truncatingIfNeeded: (value >> UInt64(60 - 4 * index)) & 0xf)]
            }
        }
    }
}
