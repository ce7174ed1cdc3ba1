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
            // Sorting the members themselves, not the keys, saves looking each value up again.
            let members = sortingKeys ? o.members.sorted(by: { precedesInUTF16Order($0.key, $1.key) }) : o.members
            for (k, member) in members.enumerated() {
                if k > 0 { out.append(UInt8(ascii: ",")) }
                writeString(member.key, into: &out)
                out.append(UInt8(ascii: ":"))
                write(member.value, sortingKeys: sortingKeys, into: &out)
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
        var left = a.utf8.makeIterator()
        var right = b.utf8.makeIterator()
        while true {
            switch (left.next(), right.next()) {
            case (nil, nil): return false
            case (nil, _): return true
            case (_, nil): return false
            case (let x?, let y?):
                if x == y { continue }
                if x >= 0xEE || y >= 0xEE { return a.utf16.lexicographicallyPrecedes(b.utf16) }
                return x < y
            }
        }
    }

    static func writeString(_ s: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        // Most strings need no escaping: copy them whole.
        guard s.utf8.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }) else {
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
