import Foundation

/// A value in an AMQP field table (message headers, queue and exchange arguments).
/// Tables keep their entries' order, so what is published is what is read back.
public indirect enum AMQPFieldValue: Sendable, Hashable {
    case void
    case bool(Bool)
    case int8(Int8)
    case uint8(UInt8)
    case int16(Int16)
    case uint16(UInt16)
    case int32(Int32)
    case uint32(UInt32)
    case int64(Int64)
    case float(Float)
    case double(Double)
    /// AMQP decimal: `value` × 10^-`scale`.
    case decimal(scale: UInt8, value: UInt32)
    /// A UTF-8 long string.
    case string(String)
    /// Raw bytes (AMQP byte array).
    case bytes([UInt8])
    /// Seconds since the Unix epoch.
    case timestamp(UInt64)
    case table(AMQPTable)
    case array([AMQPFieldValue])

    /// The string, when this is `.string` (or UTF-8 `.bytes`).
    public var stringValue: String? {
        switch self {
        case .string(let s): return s
        case .bytes(let b): return String(bytes: b, encoding: .utf8)
        default: return nil
        }
    }

    /// The integer value of any integer case.
    public var intValue: Int64? {
        switch self {
        case .int8(let v): return Int64(v)
        case .uint8(let v): return Int64(v)
        case .int16(let v): return Int64(v)
        case .uint16(let v): return Int64(v)
        case .int32(let v): return Int64(v)
        case .uint32(let v): return Int64(v)
        case .int64(let v): return v
        case .timestamp(let v): return Int64(clamping: v)
        default: return nil
        }
    }
}

/// An ordered AMQP field table.
public struct AMQPTable: Sendable, Hashable, ExpressibleByDictionaryLiteral, Sequence {
    /// Entries in wire order. Keys are at most 128 bytes (AMQP short strings).
    public var entries: [(key: String, value: AMQPFieldValue)] {
        get { storage.map { ($0.key, $0.value) } }
        set { storage = newValue.map { Entry(key: $0.key, value: $0.value) } }
    }
    package struct Entry: Sendable, Hashable {
        package var key: String
        package var value: AMQPFieldValue
        package init(key: String, value: AMQPFieldValue) {
            self.key = key
            self.value = value
        }
    }
    package var storage: [Entry]

    /// How deep received tables are decoded: a header table is depth 1, a table or array inside it depth 2, and so
    /// on. Deeper values arrive as `.void`, with ``AMQPDecodingProblems/headersTooDeep`` in
    /// ``AMQPProperties/decodingProblems``. No protocol PayBridge
    /// speaks nests deeper; the bound keeps hostile headers from driving the decoder's recursion.
    public static let maximumDecodedDepth = 8

    public init() { storage = [] }
    public init(dictionaryLiteral elements: (String, AMQPFieldValue)...) {
        storage = elements.map { Entry(key: $0.0, value: $0.1) }
    }
    public init(_ entries: [(String, AMQPFieldValue)]) {
        storage = entries.map { Entry(key: $0.0, value: $0.1) }
    }

    public var isEmpty: Bool { storage.isEmpty }
    public var count: Int { storage.count }

    /// The value for `key` (the first, if a key repeats); setting replaces it in place or appends.
    public subscript(key: String) -> AMQPFieldValue? {
        get { storage.first(where: { $0.key == key })?.value }
        set {
            if let index = storage.firstIndex(where: { $0.key == key }) {
                if let newValue { storage[index].value = newValue } else { storage.remove(at: index) }
            } else if let newValue {
                storage.append(Entry(key: key, value: newValue))
            }
        }
    }

    public func makeIterator() -> some IteratorProtocol<(key: String, value: AMQPFieldValue)> {
        storage.lazy.map { (key: $0.key, value: $0.value) }.makeIterator()
    }
}
