import AMQPValues
import PayBridgeRules
import PayBridgeContract
import Testing

/// What PayBridge forwards of a command's headers when it publishes it again: bounded by UTF-8
/// bytes whatever a producer sent, with what was dropped named in `x-paybridge-dropped-headers`.
@Suite struct ForwardedHeadersTests {
    static let combining = String(repeating: "\u{0301}", count: 127)

    static func forwarded(_ headers: AMQPTable) -> AMQPTable {
        CommandDelivery.forwardedProperties(AMQPProperties(headers: headers), attempt: 2,
                                            originalRoutingKey: "amanpay.purchase").headers ?? [:]
    }

    @Test func ordinaryHeadersAreForwardedUnchangedAndNothingIsRecorded() {
        let headers = forwardedHeaders(["x-tenant": .string("acme"), "x-count": .int32(3)])
        #expect(headers["x-tenant"]?.stringValue == "acme")
        #expect(headers["x-count"] == .int32(3))
        #expect(headers[Topology.Headers.droppedHeaders] == nil)
    }

    private func forwardedHeaders(_ headers: AMQPTable) -> AMQPTable { Self.forwarded(headers) }

    /// PayBridge's own headers are counted first, but what is kept is forwarded in the order it arrived.
    @Test func keptHeadersKeepTheirReceivedOrder() {
        let received: AMQPTable = ["x-tenant": .string("acme"), Topology.Headers.traceparent: .string("00-x"),
                                   "x-count": .int32(3)]
        #expect(ForwardedHeaders(received).kept == received)
    }

    /// Keys are measured in UTF-8 bytes: "a" and 127 combining marks is one character and 255 bytes.
    @Test func aKeyOverTheLimitInBytesIsDroppedHoweverFewCharactersItHas() {
        let long = "a" + Self.combining
        let short = "b" + String(repeating: "\u{0301}", count: 63)  // 127 bytes
        let headers = forwardedHeaders([long: .string("x"), short: .string("y")])
        #expect(headers[long] == nil)
        #expect(headers[short]?.stringValue == "y")
        let record = headers[Topology.Headers.droppedHeaders]?.stringValue
        #expect(record == "1 header, \(AMQPTable.encodedByteCount(key: long, value: .string("x"))) bytes: \(long)")
    }

    /// Headers that nearly fill a frame: the first ones that fit the budget are kept, the rest dropped; PayBridge's
    /// own are counted first, so none of them is lost to a producer's.
    @Test func headersOverTheTotalAreDroppedPayBridgesOwnFirst() {
        var entries: [(String, AMQPFieldValue)] = []
        for index in 0..<20 { entries.append(("x-fill-\(index)", .string(String(repeating: "f", count: 6_000)))) }
        entries.append((Topology.Headers.replayed, .bool(true)))
        let headers = forwardedHeaders(AMQPTable(entries))
        #expect(headers[Topology.Headers.replayed] == .bool(true))
        #expect(headers["x-fill-0"] != nil && headers["x-fill-1"] != nil)
        #expect(headers["x-fill-2"] == nil && headers["x-fill-19"] == nil)
        let producers = headers.filter { !ForwardedHeaders.isPayBridges($0.key) }
        let kept = producers.reduce(0) { $0 + AMQPTable.encodedByteCount(key: $1.key, value: $1.value) }
        #expect(kept <= Topology.Headers.maximumForwardedHeaderBytes)
        let record = headers[Topology.Headers.droppedHeaders]?.stringValue ?? ""
        #expect(record.hasPrefix("18 headers, "), "\(record)")
        #expect(record.contains("x-fill-2, x-fill-3"))
        #expect(headers.encodedByteCount < 20 * 1024)
    }

    /// The record names the dropped keys, but is itself clipped by UTF-8 bytes: 400 keys of 255 bytes would be 100 KB.
    @Test func theRecordOfManyLongKeysIsClippedByBytes() {
        var entries: [(String, AMQPFieldValue)] = []
        for index in 0..<400 { entries.append(("\(index % 10)" + Self.combining, .void)) }
        let record = forwardedHeaders(AMQPTable(entries))[Topology.Headers.droppedHeaders]?.stringValue ?? ""
        #expect(record.hasPrefix("400 headers, "))
        #expect(record.utf8.count <= Topology.Headers.maximumDetailLength)
        #expect(!record.unicodeScalars.contains("\u{FFFD}"), "clipped at a scalar boundary: nothing was repaired")
    }

    /// Every header PayBridge writes is clipped by bytes: a provider's error code of combining marks included.
    @Test func deadLetterTextsAreClippedByBytes() {
        let code = "E" + String(repeating: "\u{0301}", count: 5_000)
        let headers = Topology.deadLetterHeaders(reason: .providerError, code: code, detail: code, sourceQueue: "q",
                                                 failedEventId: nil, originalRoutingKey: nil)
        #expect(headers[Topology.Headers.deadLetterCode]!.utf8.count <= Topology.Headers.maximumDetailLength)
        #expect(headers[Topology.Headers.deadLetterDetail]!.utf8.count <= Topology.Headers.maximumDetailLength)
    }

    /// Without the producer's headers, a re-publication keeps PayBridge's own and says what went.
    @Test func withoutProducerHeadersKeepsPayBridgesAndRecordsTheRest() {
        var properties = AMQPProperties(headers: [
            "x-producer": .string(String(repeating: "p", count: 9_000)),
            Topology.Headers.deadLetterReason: .string("invalid_command"),
            Topology.Headers.attempt: .int32(1),
            Topology.Headers.account: .string(String(repeating: "a", count: 5_000)),  // a producer's, too large
        ], messageId: "m-1")
        properties.correlationId = "c-1"
        let stripped = CommandDelivery.withoutProducerHeaders(properties, because: "too large")
        let headers = stripped.headers ?? [:]
        #expect(headers["x-producer"] == nil && headers[Topology.Headers.account] == nil)
        #expect(headers[Topology.Headers.deadLetterReason]?.stringValue == "invalid_command")
        #expect(headers[Topology.Headers.attempt] == .int32(1))
        #expect(headers[Topology.Headers.droppedHeaders]?.stringValue?.hasPrefix("2 headers, ") == true)
        #expect(headers[Topology.Headers.droppedHeaders]?.stringValue?.contains("(too large)") == true)
        #expect(stripped.messageId == "m-1" && stripped.correlationId == "c-1")
    }
}
