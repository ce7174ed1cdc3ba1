/// A strict RFC 8259 parser that keeps number text and member order.
///
/// Refuses (never repairs) invalid UTF-8, lone surrogates, duplicate object keys, and anything over ``JSONLimits``.
struct JSONParser {
    let bytes: [UInt8]
    let limits: JSONLimits
    var index = 0
    var depth = 0

    init(bytes: [UInt8], limits: JSONLimits = .standard) {
        self.bytes = bytes
        self.limits = limits
    }

    mutating func parseDocument() throws(JSONParseError) -> JSONValue {
        skipWhitespace()
        let v = try parseValue()
        skipWhitespace()
        if index != bytes.count { throw fail("trailing content") }
        return v
    }

    func fail(_ reason: String) -> JSONParseError { JSONParseError(offset: index, reason: reason) }

    mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    mutating func parseValue() throws(JSONParseError) -> JSONValue {
        guard index < bytes.count else { throw fail("unexpected end") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        default: return .number(try parseNumber())
        }
    }

    mutating func expectLiteral(_ literal: StaticString) throws(JSONParseError) {
        let count = literal.utf8CodeUnitCount
        guard index + count <= bytes.count else { throw fail("unexpected end") }
        let p = literal.utf8Start
        for i in 0..<count where bytes[index + i] != p[i] { throw fail("invalid literal") }
        index += count
    }

    mutating func enter() throws(JSONParseError) {
        depth += 1
        if depth > limits.maximumDepth { throw fail("nesting deeper than \(limits.maximumDepth)") }
    }

    mutating func parseObject() throws(JSONParseError) -> JSONValue {
        try enter()
        defer { depth -= 1 }
        index += 1
        var members: [JSONMember] = []
        var keys = DuplicateKeyCheck()
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw fail("expected key") }
            let keyOffset = index
            let key = try parseString()
            // Duplicate keys are ambiguous (which one did the signer mean?): refuse them.
            guard keys.insert(key, among: members) else {
                throw JSONParseError(offset: keyOffset, reason: "duplicate object key")
            }
            guard members.count < limits.maximumContainerCount else {
                throw JSONParseError(
                    offset: keyOffset, reason: "object has more than \(limits.maximumContainerCount) members")
            }
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw fail("expected ':'") }
            index += 1
            skipWhitespace()
            let value = try parseValue()
            members.append(JSONMember(key, value))
            skipWhitespace()
            guard index < bytes.count else { throw fail("unexpected end") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
                continue
            }
            if bytes[index] == UInt8(ascii: "}") {
                index += 1
                return .object(members)
            }
            throw fail("expected ',' or '}'")
        }
    }

    mutating func parseArray() throws(JSONParseError) -> JSONValue {
        try enter()
        defer { depth -= 1 }
        index += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            index += 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            guard elements.count < limits.maximumContainerCount else {
                throw fail("array has more than \(limits.maximumContainerCount) elements")
            }
            elements.append(try parseValue())
            skipWhitespace()
            guard index < bytes.count else { throw fail("unexpected end") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
                continue
            }
            if bytes[index] == UInt8(ascii: "]") {
                index += 1
                return .array(elements)
            }
            throw fail("expected ',' or ']'")
        }
    }

    mutating func parseNumber() throws(JSONParseError) -> String {
        let start = index
        func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < bytes.count, isDigit(bytes[index]) else { throw fail("invalid number") }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
        } else {
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard index < bytes.count, isDigit(bytes[index]) else { throw fail("invalid fraction") }
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
                index += 1
            }
            guard index < bytes.count, isDigit(bytes[index]) else { throw fail("invalid exponent") }
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        guard index - start <= limits.maximumNumberLength else {
            throw JSONParseError(
                offset: start, reason: "number literal longer than \(limits.maximumNumberLength) characters")
        }
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }

    mutating func parseHex4() throws(JSONParseError) -> UInt32 {
        guard index + 4 <= bytes.count else { throw fail("short \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let b = bytes[index]
            let d: UInt32
            switch b {
            case 0x30...0x39: d = UInt32(b - 0x30)
            case 0x41...0x46: d = UInt32(b - 0x41 + 10)
            case 0x61...0x66: d = UInt32(b - 0x61 + 10)
            default: throw fail("bad hex digit")
            }
            v = v * 16 + d
            index += 1
        }
        return v
    }

    mutating func parseString() throws(JSONParseError) -> String {
        index += 1  // opening quote
        let start = index
        let maximum = limits.maximumStringBytes
        // Fast path: no escapes. Scanning stops one byte past the bound.
        let scanEnd = bytes.count - start > maximum ? start + maximum + 1 : bytes.count
        while index < scanEnd {
            let b = bytes[index]
            if b == UInt8(ascii: "\"") {
                let s = try decodeUTF8(bytes[start..<index], at: start)
                index += 1
                return s
            }
            if b == UInt8(ascii: "\\") { break }
            if b < 0x20 { throw fail("control character in string") }
            index += 1
        }
        guard index - start <= maximum else { throw tooLong(start) }
        var buffer = Array(bytes[start..<index])
        while index < bytes.count {
            guard buffer.count <= maximum else { throw tooLong(start) }
            let b = bytes[index]
            if b == UInt8(ascii: "\"") {
                let s = try decodeUTF8(buffer[...], at: start)
                index += 1
                return s
            }
            if b < 0x20 { throw fail("control character in string") }
            if b != UInt8(ascii: "\\") {
                buffer.append(b)
                index += 1
                continue
            }
            index += 1
            guard index < bytes.count else { throw fail("unexpected end") }
            let e = bytes[index]
            index += 1
            switch e {
            case UInt8(ascii: "\""): buffer.append(0x22)
            case UInt8(ascii: "\\"): buffer.append(0x5C)
            case UInt8(ascii: "/"): buffer.append(0x2F)
            case UInt8(ascii: "b"): buffer.append(0x08)
            case UInt8(ascii: "f"): buffer.append(0x0C)
            case UInt8(ascii: "n"): buffer.append(0x0A)
            case UInt8(ascii: "r"): buffer.append(0x0D)
            case UInt8(ascii: "t"): buffer.append(0x09)
            case UInt8(ascii: "u"):
                var scalarValue = try parseHex4()
                if (0xD800...0xDBFF).contains(scalarValue) {
                    guard index + 6 <= bytes.count, bytes[index] == UInt8(ascii: "\\"),
                        bytes[index + 1] == UInt8(ascii: "u")
                    else { throw fail("lone high surrogate in \\u escape") }
                    index += 2
                    let low = try parseHex4()
                    guard (0xDC00...0xDFFF).contains(low) else { throw fail("invalid low surrogate") }
                    scalarValue = 0x10000 + ((scalarValue - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00...0xDFFF).contains(scalarValue) {
                    throw fail("lone low surrogate in \\u escape")
                }
                guard let scalar = Unicode.Scalar(scalarValue) else { throw fail("invalid \\u escape") }
                UTF8.encode(scalar) { buffer.append($0) }
            default:
                throw fail("invalid escape")
            }
        }
        throw fail("unterminated string")
    }

    func tooLong(_ start: Int) -> JSONParseError {
        JSONParseError(offset: start, reason: "string longer than \(limits.maximumStringBytes) bytes")
    }

    /// Strict UTF-8: overlong forms, encoded surrogates (U+D800…U+DFFF) and code points above U+10FFFF are errors
    /// (`String(decoding:)` would have replaced them with U+FFFD, changing what a signature covers).
    func decodeUTF8(_ slice: ArraySlice<UInt8>, at offset: Int) throws(JSONParseError) -> String {
        guard let s = String(validating: slice, as: UTF8.self) else {
            throw JSONParseError(offset: offset, reason: "invalid UTF-8 in string")
        }
        return s
    }
}

/// Finds duplicate keys while an object is parsed: a linear scan for the usual few members, a set beyond.
struct DuplicateKeyCheck {
    private static let scanLimit = 16
    private var seen: Set<String>?

    /// Records `key`; `false` when `members` (the object so far) already has it.
    mutating func insert(_ key: String, among members: [JSONMember]) -> Bool {
        if seen == nil {
            if members.count < Self.scanLimit { return !members.contains(where: { $0.key == key }) }
            seen = Set(members.map(\.key))
        }
        return seen?.insert(key).inserted ?? false
    }
}
