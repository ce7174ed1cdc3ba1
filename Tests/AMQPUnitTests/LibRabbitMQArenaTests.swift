@testable import AMQP
import Testing

/// The arena that holds a publish's C arguments: one arena, reset between publishes, must give librabbitmq exactly
/// the properties asked for, whatever their size (several chunks, a string larger than a chunk, nested tables).
@Suite struct LibRabbitMQArenaTests {
    @Test func aReusedArenaRoundTripsEveryPropertySet() {
        let arena = LibRabbitMQArena()
        let large = String(repeating: "é", count: LibRabbitMQArena.chunkBytes)  // twice a chunk in UTF-8
        var manyHeaders = AMQPTable()
        for index in 0..<300 { manyHeaders["header-\(index)"] = .string("value \(index)") }
        let sets = PropertiesEncodedSizeTests.samples + [
            AMQPProperties(headers: manyHeaders, messageId: "many"),
            AMQPProperties(headers: ["large": .string(large), "after": .array([.string(large), .int32(7)])]),
            AMQPProperties(contentType: "application/json", correlationId: "c", messageId: "m", appId: "paybridge"),
        ]
        for round in 0..<3 {
            for properties in sets {
                arena.reset()
                let encoded = arena.properties(properties)
                #expect(arena.oversizedShortString == nil)
                #expect(LibRabbitMQDecoding.properties(encoded) == properties, "round \(round)")
            }
        }
    }

    @Test func aShortStringOverTheLimitIsCutAndRecordedUntilTheNextReset() {
        let arena = LibRabbitMQArena()
        let bytes = arena.shortString(String(repeating: "x", count: 300), what: "the routing key")
        #expect(bytes.len == AMQPProperties.maximumShortStringBytes)
        #expect(arena.oversizedShortString == "the routing key is 300 bytes; AMQP allows 255")
        arena.reset()
        #expect(arena.oversizedShortString == nil)
        #expect(LibRabbitMQDecoding.string(arena.shortString("short", what: "x")) == "short")
    }
}
