import CRabbitMQ

/// Owns the C memory for one call into librabbitmq that takes `amqp_bytes_t`/`amqp_table_t` arguments.
/// Everything allocated here is freed when the arena is released, right after the call returns
/// (librabbitmq copies what it sends into its own frame buffer).
final class LibRabbitMQArena {
    /// Bump allocation in chunks: one `malloc` per chunk instead of one (or two) per string, since every publish
    /// converts its exchange, routing key and properties here.
    private var chunks: [UnsafeMutableRawPointer] = []
    private var used = 0
    private var capacity = 0
    static let chunkBytes = 4096
    /// What an AMQP short string (at most 255 bytes: table keys, most properties) could not carry. librabbitmq
    /// writes the length in one byte and the bytes in full, so a longer one would corrupt the frame and the broker
    /// would close the connection; the caller refuses to send instead.
    private(set) var oversizedShortString: String?

    deinit {
        for chunk in chunks { chunk.deallocate() }
    }

    /// Frees everything allocated so far but the first chunk, for the next call (the arena is reusable on the
    /// thread that owns it).
    func reset() {
        for chunk in chunks.dropFirst() { chunk.deallocate() }
        if chunks.count > 1 { chunks.removeLast(chunks.count - 1) }
        used = 0
        capacity = chunks.isEmpty ? 0 : Self.chunkBytes
        oversizedShortString = nil
    }

    /// `byteCount` bytes aligned to `alignment` (a power of two, at most 16), valid until ``reset()`` or deinit.
    private func allocate(_ byteCount: Int, alignment: Int) -> UnsafeMutableRawPointer {
        let start = (used + alignment - 1) & ~(alignment - 1)
        if let current = chunks.last, start + byteCount <= capacity {
            used = start + byteCount
            return current + start
        }
        let size = max(Self.chunkBytes, byteCount)
        let chunk = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 16)
        if byteCount > Self.chunkBytes, let current = chunks.popLast() {
            // An oversized allocation gets a chunk of its own; the current chunk stays the one bumped into.
            chunks.append(chunk)
            chunks.append(current)
            return chunk
        }
        chunks.append(chunk)
        used = byteCount
        capacity = size
        return chunk
    }

    /// The string's UTF-8 bytes (or their first `limit`), copied into the arena.
    func bytes(_ string: String, limit: Int = .max) -> amqp_bytes_t {
        let count = min(string.utf8.count, limit)
        guard count > 0 else { return amqp_bytes_t(len: 0, bytes: nil) }
        let pointer = allocate(count, alignment: 1)
        let target = UnsafeMutableRawBufferPointer(start: pointer, count: count)
        let copied: Void? = string.utf8.withContiguousStorageIfAvailable { utf8 in
            target.copyMemory(from: UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: utf8[0..<count])))
        }
        if copied == nil {
            for (index, byte) in string.utf8.prefix(count).enumerated() { target[index] = byte }
        }
        return amqp_bytes_t(len: count, bytes: pointer)
    }

    func bytes(_ array: [UInt8]) -> amqp_bytes_t {
        guard !array.isEmpty else { return amqp_bytes_t(len: 0, bytes: nil) }
        let pointer = allocate(array.count, alignment: 1)
        array.withUnsafeBytes { pointer.copyMemory(from: $0.baseAddress!, byteCount: array.count) }
        return amqp_bytes_t(len: array.count, bytes: pointer)
    }

    /// An AMQP short string: at most 255 bytes; a longer one is cut there and recorded in ``oversizedShortString``.
    func shortString(_ string: String, what: @autoclosure () -> String) -> amqp_bytes_t {
        let count = string.utf8.count
        let limit = AMQPProperties.maximumShortStringBytes
        if count > limit, oversizedShortString == nil {
            oversizedShortString = "\(what()) is \(count) bytes; AMQP allows \(limit)"
        }
        return bytes(string, limit: limit)
    }

    func table(_ table: AMQPTable) -> amqp_table_t {
        guard !table.isEmpty else { return amqp_table_t(num_entries: 0, entries: nil) }
        let entries = allocate(MemoryLayout<amqp_table_entry_t>.stride * table.count,
                               alignment: MemoryLayout<amqp_table_entry_t>.alignment)
            .bindMemory(to: amqp_table_entry_t.self, capacity: table.count)
        for (index, entry) in table.storage.enumerated() {
            entries[index] = amqp_table_entry_t(key: shortString(entry.key, what: "a header key"),
                                                value: fieldValue(entry.value))
        }
        return amqp_table_t(num_entries: Int32(table.count), entries: entries)
    }

    func fieldValue(_ value: AMQPFieldValue) -> amqp_field_value_t {
        var field = amqp_field_value_t()
        func kind(_ k: amqp_field_value_kind_t) -> UInt8 { UInt8(truncatingIfNeeded: k.rawValue) }
        switch value {
        case .void: field.kind = kind(AMQP_FIELD_KIND_VOID)
        case .bool(let v): field.kind = kind(AMQP_FIELD_KIND_BOOLEAN); field.value.boolean = v ? 1 : 0
        case .int8(let v): field.kind = kind(AMQP_FIELD_KIND_I8); field.value.i8 = v
        case .uint8(let v): field.kind = kind(AMQP_FIELD_KIND_U8); field.value.u8 = v
        case .int16(let v): field.kind = kind(AMQP_FIELD_KIND_I16); field.value.i16 = v
        case .uint16(let v): field.kind = kind(AMQP_FIELD_KIND_U16); field.value.u16 = v
        case .int32(let v): field.kind = kind(AMQP_FIELD_KIND_I32); field.value.i32 = v
        case .uint32(let v): field.kind = kind(AMQP_FIELD_KIND_U32); field.value.u32 = v
        case .int64(let v): field.kind = kind(AMQP_FIELD_KIND_I64); field.value.i64 = v
        case .float(let v): field.kind = kind(AMQP_FIELD_KIND_F32); field.value.f32 = v
        case .double(let v): field.kind = kind(AMQP_FIELD_KIND_F64); field.value.f64 = v
        case .decimal(let scale, let v):
            field.kind = kind(AMQP_FIELD_KIND_DECIMAL)
            field.value.decimal = amqp_decimal_t(decimals: scale, value: v)
        case .string(let s): field.kind = kind(AMQP_FIELD_KIND_UTF8); field.value.bytes = bytes(s)
        case .bytes(let b): field.kind = kind(AMQP_FIELD_KIND_BYTES); field.value.bytes = bytes(b)
        case .timestamp(let v): field.kind = kind(AMQP_FIELD_KIND_TIMESTAMP); field.value.u64 = v
        case .table(let t): field.kind = kind(AMQP_FIELD_KIND_TABLE); field.value.table = table(t)
        case .array(let values):
            field.kind = kind(AMQP_FIELD_KIND_ARRAY)
            let items = allocate(MemoryLayout<amqp_field_value_t>.stride * max(values.count, 1),
                                 alignment: MemoryLayout<amqp_field_value_t>.alignment)
                .bindMemory(to: amqp_field_value_t.self, capacity: max(values.count, 1))
            for (index, item) in values.enumerated() { items[index] = fieldValue(item) }
            field.value.array = amqp_array_t(num_entries: Int32(values.count), entries: values.isEmpty ? nil : items)
        }
        return field
    }

    func properties(_ p: AMQPProperties) -> amqp_basic_properties_t {
        var props = amqp_basic_properties_t()
        var flags: UInt32 = 0
        if let v = p.contentType { flags |= 1 << 15; props.content_type = shortString(v, what: "content_type") }
        if let v = p.contentEncoding { flags |= 1 << 14; props.content_encoding = shortString(v, what: "content_encoding") }
        if let v = p.headers { flags |= 1 << 13; props.headers = table(v) }
        if let v = p.persistent { flags |= 1 << 12; props.delivery_mode = v ? 2 : 1 }
        if let v = p.priority { flags |= 1 << 11; props.priority = v }
        if let v = p.correlationId { flags |= 1 << 10; props.correlation_id = shortString(v, what: "correlation_id") }
        if let v = p.replyTo { flags |= 1 << 9; props.reply_to = shortString(v, what: "reply_to") }
        if let v = p.expiration { flags |= 1 << 8; props.expiration = shortString(v, what: "expiration") }
        if let v = p.messageId { flags |= 1 << 7; props.message_id = shortString(v, what: "message_id") }
        if let v = p.timestamp { flags |= 1 << 6; props.timestamp = v }
        if let v = p.type { flags |= 1 << 5; props.type = shortString(v, what: "type") }
        if let v = p.userId { flags |= 1 << 4; props.user_id = shortString(v, what: "user_id") }
        if let v = p.appId { flags |= 1 << 3; props.app_id = shortString(v, what: "app_id") }
        props._flags = flags
        return props
    }
}

/// Copies C values (valid only during the call that produced them) into Swift values.
enum LibRabbitMQDecoding {
    static func bytes(_ b: amqp_bytes_t) -> [UInt8] {
        guard b.len > 0, let base = b.bytes else { return [] }
        return Array(UnsafeRawBufferPointer(start: base, count: b.len))
    }

    static func string(_ b: amqp_bytes_t) -> String {
        guard b.len > 0, let base = b.bytes else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: base, count: b.len), as: UTF8.self)
    }

    /// A string that came from a producer: repaired (and reported in `problems`) when it is not UTF-8.
    static func string(_ b: amqp_bytes_t, problems: inout AMQPDecodingProblems) -> String {
        guard b.len > 0, let base = b.bytes else { return "" }
        let raw = UnsafeRawBufferPointer(start: base, count: b.len)
        // ASCII (almost every header) is valid UTF-8: decoded without the generic validator.
        if raw.allSatisfy({ $0 < 0x80 }) { return String(decoding: raw, as: UTF8.self) }
        if let valid = String(validating: raw, as: UTF8.self) { return valid }
        problems.insert(.notUTF8)
        return String(decoding: raw, as: UTF8.self)
    }

    /// Converts a decoded table. Tables and arrays nested deeper than ``AMQPTable/maximumDecodedDepth`` are not
    /// walked (the recursion here is bounded by that small constant, whatever a producer sent): they become `.void`
    /// and `problems` says so (as it does for keys and strings that are not UTF-8), so the caller can reject the
    /// message with a clear reason.
    static func table(_ t: amqp_table_t, depth: Int = 1, problems: inout AMQPDecodingProblems) -> AMQPTable {
        var result = AMQPTable()
        guard t.num_entries > 0, let entries = t.entries else { return result }
        result.storage.reserveCapacity(Int(t.num_entries))
        for index in 0..<Int(t.num_entries) {
            let entry = entries[index]
            result.storage.append(.init(key: string(entry.key, problems: &problems),
                                        value: fieldValue(entry.value, depth: depth, problems: &problems)))
        }
        return result
    }

    static func fieldValue(_ f: amqp_field_value_t, depth: Int, problems: inout AMQPDecodingProblems)
        -> AMQPFieldValue
    {
        switch UInt32(f.kind) {
        case AMQP_FIELD_KIND_BOOLEAN.rawValue: return .bool(f.value.boolean != 0)
        case AMQP_FIELD_KIND_I8.rawValue: return .int8(f.value.i8)
        case AMQP_FIELD_KIND_U8.rawValue: return .uint8(f.value.u8)
        case AMQP_FIELD_KIND_I16.rawValue: return .int16(f.value.i16)
        case AMQP_FIELD_KIND_U16.rawValue: return .uint16(f.value.u16)
        case AMQP_FIELD_KIND_I32.rawValue: return .int32(f.value.i32)
        case AMQP_FIELD_KIND_U32.rawValue: return .uint32(f.value.u32)
        case AMQP_FIELD_KIND_I64.rawValue: return .int64(f.value.i64)
        case AMQP_FIELD_KIND_U64.rawValue: return .int64(Int64(bitPattern: f.value.u64))
        case AMQP_FIELD_KIND_F32.rawValue: return .float(f.value.f32)
        case AMQP_FIELD_KIND_F64.rawValue: return .double(f.value.f64)
        case AMQP_FIELD_KIND_DECIMAL.rawValue:
            return .decimal(scale: f.value.decimal.decimals, value: f.value.decimal.value)
        case AMQP_FIELD_KIND_UTF8.rawValue: return .string(string(f.value.bytes, problems: &problems))
        case AMQP_FIELD_KIND_BYTES.rawValue: return .bytes(bytes(f.value.bytes))
        case AMQP_FIELD_KIND_TIMESTAMP.rawValue: return .timestamp(f.value.u64)
        case AMQP_FIELD_KIND_TABLE.rawValue:
            guard depth < AMQPTable.maximumDecodedDepth else {
                problems.insert(.headersTooDeep)
                return .void
            }
            return .table(table(f.value.table, depth: depth + 1, problems: &problems))
        case AMQP_FIELD_KIND_ARRAY.rawValue:
            guard depth < AMQPTable.maximumDecodedDepth else {
                problems.insert(.headersTooDeep)
                return .void
            }
            let array = f.value.array
            guard array.num_entries > 0, let entries = array.entries else { return .array([]) }
            var values: [AMQPFieldValue] = []
            values.reserveCapacity(Int(array.num_entries))
            for index in 0..<Int(array.num_entries) {
                values.append(fieldValue(entries[index], depth: depth + 1, problems: &problems))
            }
            return .array(values)
        default: return .void
        }
    }

    static func properties(_ p: amqp_basic_properties_t) -> AMQPProperties {
        let flags = p._flags
        func has(_ bit: UInt32) -> Bool { flags & (1 << bit) != 0 }
        var result = AMQPProperties()
        var problems: AMQPDecodingProblems = []
        if has(15) { result.contentType = string(p.content_type, problems: &problems) }
        if has(14) { result.contentEncoding = string(p.content_encoding, problems: &problems) }
        if has(13) { result.headers = table(p.headers, problems: &problems) }
        if has(12) { result.persistent = p.delivery_mode == 2 }
        if has(11) { result.priority = p.priority }
        if has(10) { result.correlationId = string(p.correlation_id, problems: &problems) }
        if has(9) { result.replyTo = string(p.reply_to, problems: &problems) }
        if has(8) { result.expiration = string(p.expiration, problems: &problems) }
        if has(7) { result.messageId = string(p.message_id, problems: &problems) }
        if has(6) { result.timestamp = p.timestamp }
        if has(5) { result.type = string(p.type, problems: &problems) }
        if has(4) { result.userId = string(p.user_id, problems: &problems) }
        if has(3) { result.appId = string(p.app_id, problems: &problems) }
        result.decodingProblems = problems
        return result
    }
}

extension LibRabbitMQArena {
    /// librabbitmq's own encoding of `properties` (`amqp_encode_properties`, what `basic.publish` puts in the
    /// content-header frame) into a buffer of `capacity` bytes: the encoded length, or librabbitmq's negative status
    /// when it does not fit. For tests that hold ``AMQPProperties/encodedByteCount`` to librabbitmq's encoder.
    static func librabbitmqEncodedByteCount(of properties: AMQPProperties, capacity: Int) -> Int {
        let arena = LibRabbitMQArena()
        var props = arena.properties(properties)
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: max(capacity, 1), alignment: 8)
        defer { buffer.deallocate() }
        return Int(amqp_encode_properties(UInt16(AMQP_BASIC_CLASS), &props,
                                          amqp_bytes_t(len: capacity, bytes: buffer)))
    }
}
