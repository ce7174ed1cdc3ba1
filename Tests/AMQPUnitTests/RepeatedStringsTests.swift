@testable import AMQP
import CRabbitMQ
import Testing

/// Delivery frames repeat their consumer tag and exchange: the I/O thread decodes them into the strings it
/// decoded last time (the same storage, no allocation), remembers a bounded number, and never remembers bytes
/// that are not UTF-8.
@Suite struct RepeatedStringsTests {
    /// `text`'s bytes as a frame field, decoded by `strings`.
    static func decode(_ bytes: [UInt8], _ strings: inout RepeatedStrings) -> String {
        var bytes = bytes
        return bytes.withUnsafeMutableBytes { raw in
            strings.string(amqp_bytes_t(len: raw.count, bytes: raw.baseAddress))
        }
    }

    static func storage(_ string: String) -> UnsafeRawPointer? {
        var string = string
        return string.withUTF8 { UnsafeRawPointer($0.baseAddress) }
    }

    @Test func aRepeatedFieldReusesTheStringDecodedBefore() {
        var strings = RepeatedStrings()
        let tag = Array("paybridge-amanpay-0123456789abcdef".utf8)  // longer than a small string: heap storage
        let first = Self.decode(tag, &strings)
        let second = Self.decode(tag, &strings)
        #expect(first == "paybridge-amanpay-0123456789abcdef")
        #expect(second == first)
        #expect(Self.storage(second) == Self.storage(first))
        #expect(Self.decode([], &strings) == "")
    }

    @Test func theOldestEntryMakesRoomOnceFull() {
        var strings = RepeatedStrings()
        let names = (0...RepeatedStrings.capacity).map { Array("payments.commands.exchange-\($0)".utf8) }
        let first = Self.decode(names[0], &strings)
        for name in names.dropFirst() { _ = Self.decode(name, &strings) }  // one more than fit: the first goes
        let again = Self.decode(names[0], &strings)
        #expect(again == first)
        #expect(Self.storage(again) != Self.storage(first))
        // The newest ones are still there.
        let last = Self.decode(names[RepeatedStrings.capacity], &strings)
        #expect(Self.storage(Self.decode(names[RepeatedStrings.capacity], &strings)) == Self.storage(last))
    }

    @Test func bytesThatAreNotUTF8AreRepairedAndNotRemembered() {
        var strings = RepeatedStrings()
        let invalid: [UInt8] = Array("exchange-with-a-bad-byte-".utf8) + [0xFF]
        let first = Self.decode(invalid, &strings)
        #expect(first == "exchange-with-a-bad-byte-\u{FFFD}")
        #expect(Self.storage(Self.decode(invalid, &strings)) != Self.storage(first))
    }
}
