/// How many bytes AMQP 0-9-1 takes to encode a value, a table and a property set, as librabbitmq encodes them.
///
/// A message's properties travel in one content-header frame: they must fit the connection's negotiated
/// `frame_max` (``AMQPProperties/maximumEncodedBytes(frameMax:)``). librabbitmq only finds out they do not after it
/// has sent the `basic.publish` method frame, which leaves the channel unusable; ``AMQPConnection`` measures first
/// and refuses such a publish with ``AMQPError/Code/propertiesTooLarge`` without sending anything.
///
/// The sums follow the field-table encoding (a short-string key is a length byte and its bytes, a value is a type
/// byte and its payload: 4-byte length and bytes for strings, byte arrays, tables and arrays). A test checks them
/// against librabbitmq's own encoder.
extension AMQPFieldValue {
    /// The value's encoded size: its type byte and its payload.
    public var encodedByteCount: Int { 1 + payloadByteCount }

    private var payloadByteCount: Int {
        switch self {
        case .void: return 0
        case .bool, .int8, .uint8: return 1
        case .int16, .uint16: return 2
        case .int32, .uint32, .float: return 4
        case .int64, .double, .timestamp: return 8
        case .decimal: return 5
        case .string(let s): return 4 + s.utf8.count
        case .bytes(let b): return 4 + b.count
        case .table(let t): return t.encodedByteCount
        case .array(let values): return values.reduce(4) { $0 + $1.encodedByteCount }
        }
    }
}

extension AMQPTable {
    /// The table's encoded size, its 4-byte length included.
    public var encodedByteCount: Int { storage.reduce(4) { $0 + Self.encodedByteCount(key: $1.key, value: $1.value) } }

    /// One entry's encoded size: the key as a short string (a length byte and its UTF-8 bytes) and the value.
    public static func encodedByteCount(key: String, value: AMQPFieldValue) -> Int {
        1 + key.utf8.count + value.encodedByteCount
    }
}

extension AMQPProperties {
    /// What a content-header frame carries besides the properties: the frame header (type, channel, size: 7
    /// bytes), class id, weight and body size (12) and the frame-end byte (1).
    public static let contentHeaderOverheadBytes = 20

    /// The most the encoded properties of one message can take on a connection whose `frame_max` is `frameMax`.
    public static func maximumEncodedBytes(frameMax: Int) -> Int { frameMax - contentHeaderOverheadBytes }

    /// The encoded size of the property set as `basic.publish` sends it: the 2-byte property flags, then each
    /// property that is set (short strings: a length byte and the bytes; the headers table; one byte for delivery
    /// mode and priority; 8 for the timestamp).
    public var encodedByteCount: Int {
        func short(_ s: String?) -> Int { s.map { 1 + $0.utf8.count } ?? 0 }
        var total = 2
        total += short(contentType) + short(contentEncoding)
        total += headers?.encodedByteCount ?? 0
        total += (persistent == nil ? 0 : 1) + (priority == nil ? 0 : 1)
        total += short(correlationId) + short(replyTo) + short(expiration) + short(messageId)
        total += timestamp == nil ? 0 : 8
        total += short(type) + short(userId) + short(appId)
        return total
    }
}

extension AMQPProperties {
    /// What the first property that is an AMQP short string (at most ``maximumShortStringBytes``) could not carry, a
    /// header key at any depth included; `nil` when every one fits.
    package var oversizedShortString: String? {
        let limit = Self.maximumShortStringBytes
        let named: [(String, String?)] = [
            ("content_type", contentType), ("content_encoding", contentEncoding), ("correlation_id", correlationId),
            ("reply_to", replyTo), ("expiration", expiration), ("message_id", messageId), ("type", type),
            ("user_id", userId), ("app_id", appId),
        ]
        for (name, value) in named {
            if let value, value.utf8.count > limit { return "\(name) is \(value.utf8.count) bytes; AMQP allows \(limit)" }
        }
        if let length = headers?.longestKeyBytes, length > limit {
            return "a header key is \(length) bytes; AMQP allows \(limit)"
        }
        return nil
    }
}

extension AMQPTable {
    /// The UTF-8 length of the longest key, nested tables' (and tables in arrays) included.
    var longestKeyBytes: Int {
        storage.reduce(0) { Swift.max($0, $1.key.utf8.count, $1.value.longestKeyBytes) }
    }
}

extension AMQPFieldValue {
    fileprivate var longestKeyBytes: Int {
        switch self {
        case .table(let t): return t.longestKeyBytes
        case .array(let values): return values.reduce(0) { Swift.max($0, $1.longestKeyBytes) }
        default: return 0
        }
    }
}
