@testable import AMQP
import Testing

/// The size rule a publish is checked against before anything is sent: what
/// ``AMQPProperties/encodedByteCount`` says is what librabbitmq's encoder writes, and properties over one frame are
/// refused with `.propertiesTooLarge`.
@Suite struct PropertiesEncodedSizeTests {
    static let everyKind: AMQPTable = [
        "void": .void, "bool": .bool(true), "i8": .int8(-1), "u8": .uint8(1), "i16": .int16(-2), "u16": .uint16(2),
        "i32": .int32(-3), "u32": .uint32(3), "i64": .int64(-4), "float": .float(1.5), "double": .double(2.5),
        "decimal": .decimal(scale: 2, value: 12345), "string": .string("héllo"), "bytes": .bytes([0, 1, 2]),
        "timestamp": .timestamp(1_800_000_000), "empty-table": .table([:]), "empty-array": .array([]),
        "table": .table(["inner": .string("x"), "deeper": .table(["n": .int32(1)])]),
        "array": .array([.string("a"), .int64(1), .table(["k": .bool(false)]), .array([.void])]),
    ]

    static let samples: [AMQPProperties] = [
        AMQPProperties(),
        AMQPProperties(contentType: "application/json", persistent: true),
        AMQPProperties(contentType: "a", contentEncoding: "gzip", headers: everyKind, persistent: false, priority: 3,
                       correlationId: "c-1", replyTo: "r", expiration: "60000", messageId: "m-1",
                       timestamp: 1_800_000_000, type: "t", userId: "guest", appId: "paybridge"),
        AMQPProperties(headers: [:]),
        AMQPProperties(headers: ["a" + String(repeating: "\u{0301}", count: 127): .string(String(repeating: "z", count: 70_000))]),
    ]

    @Test(arguments: samples) func theCountIsWhatLibrabbitmqEncodes(_ properties: AMQPProperties) {
        let encoded = LibRabbitMQArena.librabbitmqEncodedByteCount(of: properties, capacity: 1 << 20)
        #expect(encoded == properties.encodedByteCount)
    }

    @Test func eachKindOfValueIsCountedAsEncoded() {
        for entry in Self.everyKind {
            let properties = AMQPProperties(headers: AMQPTable([(entry.key, entry.value)]))
            #expect(LibRabbitMQArena.librabbitmqEncodedByteCount(of: properties, capacity: 4096)
                        == properties.encodedByteCount, "\(entry.key)")
        }
    }

    /// Keys and strings are counted in UTF-8 bytes: "a" and 127 combining acute accents are one character and 255
    /// bytes.
    @Test func keysAndStringsCountUTF8Bytes() {
        let key = "a" + String(repeating: "\u{0301}", count: 127)
        #expect(key.count == 1)
        let table: AMQPTable = [key: .string(key)]
        #expect(table.encodedByteCount == 4 + (1 + 255) + (1 + 4 + 255))
    }

    /// A property set of exactly one frame's worth passes, one byte more is refused; librabbitmq agrees on both.
    @Test func theLimitIsFrameMaxLessTheContentHeaderOverhead() throws {
        let frameMax = 131_072
        let limit = AMQPProperties.maximumEncodedBytes(frameMax: frameMax)
        #expect(limit == 131_052)
        var properties = AMQPProperties(headers: ["filler": .string("")])
        let fixed = properties.encodedByteCount
        properties.headers = ["filler": .string(String(repeating: "f", count: limit - fixed))]
        #expect(properties.encodedByteCount == limit)
        #expect(throws: Never.self) {
            try LibRabbitMQHandle.checkEncodable(properties, frameMax: frameMax, operation: "test")
        }
        #expect(LibRabbitMQArena.librabbitmqEncodedByteCount(of: properties, capacity: limit) == limit)

        properties.headers = ["filler": .string(String(repeating: "f", count: limit - fixed + 1))]
        let error = #expect(throws: AMQPError.self) {
            try LibRabbitMQHandle.checkEncodable(properties, frameMax: frameMax, operation: "test")
        }
        #expect(error?.code == .propertiesTooLarge)
        #expect(error?.isRetryable == false)
        #expect(error?.message.contains("\(limit + 1) bytes") == true)
        #expect(LibRabbitMQArena.librabbitmqEncodedByteCount(of: properties, capacity: limit) < 0)
    }

    /// A header key (at any depth) or a short-string property over 255 bytes cannot be encoded either.
    @Test func shortStringsOverTwoHundredFiftyFiveBytesAreRefused() {
        let long = "a" + String(repeating: "\u{0301}", count: 128)  // 257 bytes
        let cases: [AMQPProperties] = [
            AMQPProperties(headers: [long: .bool(true)]),
            AMQPProperties(headers: ["outer": .array([.table([long: .void])])]),
            AMQPProperties(messageId: long),
        ]
        for properties in cases {
            let error = #expect(throws: AMQPError.self) {
                try LibRabbitMQHandle.checkEncodable(properties, frameMax: 131_072, operation: "test")
            }
            #expect(error?.code == .propertiesTooLarge)
        }
    }
}
