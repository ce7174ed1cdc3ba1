import CRabbitMQ
import Foundation

/// The last few strings a connection decoded from delivery frames (consumer tags, exchanges, routing keys), so
/// a delivery reuses the `String` the previous one allocated instead of allocating its own: every delivery of a
/// consumer repeats the same tag and exchange. Owned by one I/O thread; a handful of entries, compared bytewise.
struct RepeatedStrings {
    static let capacity = 8
    private var entries: [String] = []
    private var next = 0

    init() { entries.reserveCapacity(Self.capacity) }

    /// `bytes` as a string: an entry with exactly these bytes when there is one, else a new string (remembered,
    /// replacing the oldest entry once full). Bytes that are not UTF-8 are decoded with repairs by
    /// ``LibRabbitMQDecoding/string(_:)`` and never remembered.
    mutating func string(_ bytes: amqp_bytes_t) -> String {
        guard bytes.len > 0, let base = bytes.bytes else { return "" }
        let raw = UnsafeRawBufferPointer(start: base, count: bytes.len)
        for entry in entries where Self.equal(entry, raw) { return entry }
        guard let decoded = String(validating: raw, as: UTF8.self) else { return LibRabbitMQDecoding.string(bytes) }
        if entries.count < Self.capacity {
            entries.append(decoded)
        } else {
            entries[next] = decoded
            next = (next + 1) % Self.capacity
        }
        return decoded
    }

    private static func equal(_ string: String, _ raw: UnsafeRawBufferPointer) -> Bool {
        var string = string
        return string.withUTF8 { utf8 in
            utf8.count == raw.count && memcmp(utf8.baseAddress!, raw.baseAddress!, raw.count) == 0
        }
    }
}
