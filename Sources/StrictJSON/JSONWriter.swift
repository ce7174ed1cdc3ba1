/// The one JSON writer: compact, numbers as stored, strings escaped minimally (`"`, `\`, control characters);
/// object members sorted (canonical, for events) or in their order (for bodies signed as sent).
enum JSONWriter {
    static func write(_ value: JSONValue, sortingKeys: Bool, into out: inout [UInt8]) {
        switch value {
        case .null: out.append(contentsOf: [0x6E, 0x75, 0x6C, 0x6C])
        case .bool(true): out.append(contentsOf: [0x74, 0x72, 0x75, 0x65])
        case .bool(false): out.append(contentsOf: [0x66, 0x61, 0x6C, 0x73, 0x65])
        case .number(let n): out.append(contentsOf: n.text.utf8)
        case .string(let s): writeString(s, into: &out)
        case .array(let a):
            out.append(UInt8(ascii: "["))
            for (k, element) in a.enumerated() {
                if k > 0 { out.append(UInt8(ascii: ",")) }
                write(element, sortingKeys: sortingKeys, into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let o):
            out.append(UInt8(ascii: "{"))
            let members = o.members
            func writeMember(_ member: JSONMember, first: Bool) {
                if !first { out.append(UInt8(ascii: ",")) }
                writeString(member.key, into: &out)
                out.append(UInt8(ascii: ":"))
                write(member.value, sortingKeys: sortingKeys, into: &out)
            }
            if !sortingKeys || isSorted(members) {
                for (k, member) in members.enumerated() { writeMember(member, first: k == 0) }
            } else {
                // The members' positions are sorted, on the stack for objects of up to 128 members, not the
                // members themselves: no copy of the object.
                withUnsafeTemporaryAllocation(of: Int.self, capacity: members.count) { buffer in
                    var order = buffer  // Ints: nothing to deinitialize
                    for k in order.indices { order.initializeElement(at: k, to: k) }
                    order.sort { precedesInUTF16Order(members[$0].key, members[$1].key) }
                    for (k, position) in order.enumerated() { writeMember(members[position], first: k == 0) }
                }
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// Indented by two spaces per level, `"key": value`, members in their order, `[]`/`{}` when empty: for files
    /// people read and diff (the RabbitMQ definitions file).
    static func writePretty(_ value: JSONValue, indent: String, into out: inout [UInt8]) {
        switch value {
        case .array(let elements) where !elements.isEmpty:
            out.append(contentsOf: "[\n".utf8)
            for (k, element) in elements.enumerated() {
                out.append(contentsOf: (indent + "  ").utf8)
                writePretty(element, indent: indent + "  ", into: &out)
                out.append(contentsOf: (k == elements.count - 1 ? "\n" : ",\n").utf8)
            }
            out.append(contentsOf: (indent + "]").utf8)
        case .object(let o) where !o.isEmpty:
            out.append(contentsOf: "{\n".utf8)
            for (k, member) in o.members.enumerated() {
                out.append(contentsOf: (indent + "  ").utf8)
                writeString(member.key, into: &out)
                out.append(contentsOf: ": ".utf8)
                writePretty(member.value, indent: indent + "  ", into: &out)
                out.append(contentsOf: (k == o.count - 1 ? "\n" : ",\n").utf8)
            }
            out.append(contentsOf: (indent + "}").utf8)
        default:
            write(value, sortingKeys: false, into: &out)
        }
    }

    /// Object keys are written in UTF-16 code unit order (RFC 8785 §3.2.3):
    /// `a.utf16.lexicographicallyPrecedes(b.utf16)`, decided on the UTF-8 bytes where that gives the same answer.
    ///
    /// UTF-8 byte order is code point order, and UTF-16 order differs from code point order only between a
    /// character at U+E000…U+FFFF and one above U+FFFF (a surrogate pair sorts below U+E000). Such characters start
    /// with a byte ≥ 0xEE, so a first difference at a smaller byte is decided by the bytes.
    static func precedesInUTF16Order(_ a: String, _ b: String) -> Bool {
        let decided = a.utf8.withContiguousStorageIfAvailable { left in
            b.utf8.withContiguousStorageIfAvailable { right in decideByBytes(left, right) } ?? nil
        }
        if let answer = decided ?? nil { return answer }
        return a.utf16.lexicographicallyPrecedes(b.utf16)
    }

    /// The order of two keys' UTF-8 bytes, `nil` when it is not their UTF-16 order (a first difference at a byte
    /// from 0xEE up).
    private static func decideByBytes(_ left: UnsafeBufferPointer<UInt8>, _ right: UnsafeBufferPointer<UInt8>) -> Bool? {
        for (x, y) in zip(left, right) where x != y {
            if x >= 0xEE || y >= 0xEE { return nil }
            return x < y
        }
        return left.count < right.count
    }

    /// Whether `members` are already in the order ``precedesInUTF16Order(_:_:)`` sorts them.
    static func isSorted(_ members: [JSONMember]) -> Bool {
        var index = members.startIndex + 1
        while index < members.endIndex {
            if !precedesInUTF16Order(members[index - 1].key, members[index].key) { return false }
            index += 1
        }
        return true
    }

    /// Whether a byte of `s` must be escaped: a control character, `"` or `\`.
    static func needsEscaping(_ s: String) -> Bool {
        func needsEscaping(_ byte: UInt8) -> Bool { byte < 0x20 || byte == 0x22 || byte == 0x5C }
        // A native string's bytes are contiguous: a plain loop over them, no iterator.
        if let answer = s.utf8.withContiguousStorageIfAvailable({ bytes in bytes.contains(where: needsEscaping) }) {
            return answer
        }
        return s.utf8.contains(where: needsEscaping)
    }

    static func writeString(_ s: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        // Most strings need no escaping: copy them whole.
        guard needsEscaping(s) else {
            out.append(contentsOf: s.utf8)
            out.append(UInt8(ascii: "\""))
            return
        }
        for c in s.utf8 {
            switch c {
            case 0x22: out.append(contentsOf: [0x5C, 0x22])
            case 0x5C: out.append(contentsOf: [0x5C, 0x5C])
            case 0x08: out.append(contentsOf: [0x5C, UInt8(ascii: "b")])
            case 0x0C: out.append(contentsOf: [0x5C, UInt8(ascii: "f")])
            case 0x0A: out.append(contentsOf: [0x5C, UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [0x5C, UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [0x5C, UInt8(ascii: "t")])
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out.append(contentsOf: [0x5C, UInt8(ascii: "u"), 0x30, 0x30, hex[Int(c >> 4)], hex[Int(c & 0xF)]])
            default: out.append(c)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
