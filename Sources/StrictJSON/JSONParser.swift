/// A strict RFC 8259 parser over UTF-8 bytes that keeps number literals as text.
///
/// Refuses (never repairs) invalid UTF-8, lone surrogates, duplicate object keys, and anything over ``JSONLimits``.
struct JSONParser {
    private let bytes: [UInt8]
    private let limits: JSONLimits
    private var i = 0
    private var depth = 0

    init(bytes: [UInt8], limits: JSONLimits = .standard) {
        self.bytes = bytes
        self.limits = limits
    }

    mutating func parseDocument() throws(JSONParseError) -> JSONValue {
        skipWhitespace()
        let value = try parseValue()
        skipWhitespace()
        guard i == bytes.count else { throw fail("unexpected data after the JSON value") }
        return value
    }

    private func fail(_ reason: String) -> JSONParseError { JSONParseError(offset: i, reason: reason) }

    private mutating func skipWhitespace() {
        while i < bytes.count {
            switch bytes[i] {
            case 0x20, 0x09, 0x0A, 0x0D: i += 1
            default: return
            }
        }
    }

    private mutating func parseValue() throws(JSONParseError) -> JSONValue {
        guard i < bytes.count else { throw fail("unexpected end of input") }
        switch bytes[i] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"):
            try expectLiteral("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try expectLiteral("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try expectLiteral("null")
            return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return .number(try parseNumber())
        default:
            throw fail("unexpected character '\(printable(bytes[i]))'")
        }
    }

    private mutating func expectLiteral(_ word: StaticString) throws(JSONParseError) {
        let n = word.utf8CodeUnitCount
        guard i + n <= bytes.count else { throw fail("unexpected end of input") }
        let w = word.utf8Start
        for k in 0..<n where bytes[i + k] != w[k] {
            throw fail("invalid literal")
        }
        i += n
    }

    private mutating func enter() throws(JSONParseError) {
        depth += 1
        guard depth <= limits.maximumDepth else { throw fail("nesting deeper than \(limits.maximumDepth)") }
    }

    private mutating func parseObject() throws(JSONParseError) -> JSONValue {
        try enter()
        defer { depth -= 1 }
        i += 1  // {
        var members: [JSONMember] = []
        var keys = DuplicateKeyCheck()
        skipWhitespace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "}") {
            i += 1
            return .object(JSONObject())
        }
        // Room for a typical object's members at once: grown from empty, an object of 5 to 8 members took 4
        // allocations.
        members.reserveCapacity(8)
        while true {
            skipWhitespace()
            guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { throw fail("expected a string object key") }
            let keyOffset = i
            let key = try parseString()
            skipWhitespace()
            guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { throw fail("expected ':' after object key") }
            i += 1
            skipWhitespace()
            let value = try parseValue()
            guard keys.insert(key, among: members) else {
                // Duplicate keys are ambiguous (which one did the signer mean?): refuse them.
                throw JSONParseError(offset: keyOffset, reason: "duplicate object key")
            }
            members.append(JSONMember(key, value))
            guard members.count <= limits.maximumContainerCount else {
                throw JSONParseError(
                    offset: keyOffset, reason: "object has more than \(limits.maximumContainerCount) members")
            }
            skipWhitespace()
            guard i < bytes.count else { throw fail("unexpected end of input in object") }
            if bytes[i] == UInt8(ascii: ",") {
                i += 1
                continue
            }
            if bytes[i] == UInt8(ascii: "}") {
                i += 1
                return .object(JSONObject(uniqueMembers: members))
            }
            throw fail("expected ',' or '}' in object")
        }
    }

    private mutating func parseArray() throws(JSONParseError) -> JSONValue {
        try enter()
        defer { depth -= 1 }
        i += 1  // [
        var elements: [JSONValue] = []
        skipWhitespace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "]") {
            i += 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            guard elements.count < limits.maximumContainerCount else {
                throw fail("array has more than \(limits.maximumContainerCount) elements")
            }
            elements.append(try parseValue())
            skipWhitespace()
            guard i < bytes.count else { throw fail("unexpected end of input in array") }
            if bytes[i] == UInt8(ascii: ",") {
                i += 1
                continue
            }
            if bytes[i] == UInt8(ascii: "]") {
                i += 1
                return .array(elements)
            }
            throw fail("expected ',' or ']' in array")
        }
    }

    private mutating func parseNumber() throws(JSONParseError) -> JSONNumber {
        let start = i
        if bytes[i] == UInt8(ascii: "-") { i += 1 }
        guard i < bytes.count, isDigit(bytes[i]) else { throw fail("expected a digit") }
        if bytes[i] == UInt8(ascii: "0") {
            i += 1
            if i < bytes.count, isDigit(bytes[i]) { throw fail("leading zeros are not allowed") }
        } else {
            while i < bytes.count, isDigit(bytes[i]) { i += 1 }
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
            i += 1
            guard i < bytes.count, isDigit(bytes[i]) else { throw fail("expected a digit after '.'") }
            while i < bytes.count, isDigit(bytes[i]) { i += 1 }
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            i += 1
            if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
            guard i < bytes.count, isDigit(bytes[i]) else { throw fail("expected a digit in exponent") }
            while i < bytes.count, isDigit(bytes[i]) { i += 1 }
        }
        guard i - start <= limits.maximumNumberLength else {
            throw JSONParseError(
                offset: start, reason: "number literal longer than \(limits.maximumNumberLength) characters")
        }
        return JSONNumber(unchecked: Self.ascii(bytes[start..<i]))
    }

    private mutating func parseString() throws(JSONParseError) -> String {
        i += 1  // opening quote
        let start = i
        let maximum = limits.maximumStringBytes
        // Fast path: no escapes. Scanning stops one byte past the bound.
        let scanEnd = bytes.count - start > maximum ? start + maximum + 1 : bytes.count
        var highBits: UInt8 = 0  // any byte ≥ 0x80 sets bit 7: the string is not ASCII
        while i < scanEnd {
            let c = bytes[i]
            if c == UInt8(ascii: "\"") {
                let s = highBits < 0x80 ? Self.ascii(bytes[start..<i]) : try decodeUTF8(bytes[start..<i], at: start)
                i += 1
                return s
            }
            if c == UInt8(ascii: "\\") { break }
            if c < 0x20 { throw fail("unescaped control character in string") }
            highBits |= c
            i += 1
        }
        guard i - start <= maximum else { throw tooLong(start) }
        var buffer = Array(bytes[start..<i])
        while i < bytes.count {
            guard buffer.count <= maximum else { throw tooLong(start) }
            let c = bytes[i]
            switch c {
            case UInt8(ascii: "\""):
                guard buffer.count <= maximum else { throw tooLong(start) }
                let s = try decodeUTF8(buffer[...], at: start)
                i += 1
                return s
            case UInt8(ascii: "\\"):
                i += 1
                guard i < bytes.count else { throw fail("unexpected end of input in escape") }
                let e = bytes[i]
                i += 1
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
                    var scalar = try parseHex4()
                    if (0xD800...0xDBFF).contains(scalar) {
                        guard i + 1 < bytes.count, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u")
                        else { throw fail("lone high surrogate in \\u escape") }
                        i += 2
                        let low = try parseHex4()
                        guard (0xDC00...0xDFFF).contains(low) else { throw fail("invalid low surrogate") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00...0xDFFF).contains(scalar) {
                        throw fail("lone low surrogate in \\u escape")
                    }
                    guard let u = Unicode.Scalar(scalar) else { throw fail("invalid \\u escape") }
                    UTF8.encode(u) { buffer.append($0) }
                default:
                    throw fail("invalid escape character")
                }
            default:
                if c < 0x20 { throw fail("unescaped control character in string") }
                buffer.append(c)
                i += 1
            }
        }
        throw fail("unterminated string")
    }

    private mutating func parseHex4() throws(JSONParseError) -> UInt32 {
        guard i + 4 <= bytes.count else { throw fail("truncated \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[i]
            let d: UInt32
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(c - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(c - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(c - UInt8(ascii: "A") + 10)
            default: throw fail("invalid hex digit in \\u escape")
            }
            v = v << 4 | d
            i += 1
        }
        return v
    }

    private func tooLong(_ start: Int) -> JSONParseError {
        JSONParseError(offset: start, reason: "string longer than \(limits.maximumStringBytes) bytes")
    }

    /// ASCII bytes as a string: ASCII is valid UTF-8, so no validation is needed (and the generic validator's
    /// metadata lookups, a visible share of parsing, are skipped).
    private static func ascii(_ slice: ArraySlice<UInt8>) -> String {
        slice.withUnsafeBufferPointer { String(decoding: $0, as: UTF8.self) }
    }

    /// Strict UTF-8: overlong forms, encoded surrogates (U+D800…U+DFFF) and code points above U+10FFFF are errors.
    private func decodeUTF8(_ slice: ArraySlice<UInt8>, at offset: Int) throws(JSONParseError) -> String {
        guard let s = String(validating: slice, as: UTF8.self) else {
            throw JSONParseError(offset: offset, reason: "invalid UTF-8 in string")
        }
        return s
    }

    private func printable(_ c: UInt8) -> String {
        (0x21...0x7E).contains(c) ? String(UnicodeScalar(c)) : "\\x" + String(c, radix: 16)
    }
}

/// Duplicate-key detection while an object is parsed: a scan while the object is small, a set once it is not, so
/// a hostile 10,000-member object costs linear time.
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
