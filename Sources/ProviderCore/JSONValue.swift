// A JSON tree that keeps numbers as the exact text they were written with.
//
// Why not JSONDecoder: Foundation decodes numbers to Double (or to Decimal through Double on some
// platforms), so `250.50` would come back as `250.5` and the amount signed by the provider (A3) or
// rendered from the parsed value (F1) could not be reproduced. Both providers' signatures depend on
// the exact text, so the clients and the sandbox read and write JSON through this type.

/// A parsed JSON value. Numbers keep their source text; objects keep their member order.
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    /// A JSON number, exactly as written (`250.50`, `1e3`, `-0`).
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([JSONMember])

    /// The value of the first member named `key`, when this is an object.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.first(where: { $0.key == key })?.value
    }

    /// The string value, or `nil` when this is not a string.
    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// The raw number text, or `nil` when this is not a number.
    public var numberText: String? {
        if case .number(let s) = self { return s }
        return nil
    }

    /// A string or a number as text (A8: ids arrive as either). `nil` for other kinds.
    public var scalarText: String? {
        switch self {
        case .string(let s): return s
        case .number(let s): return s
        default: return nil
        }
    }

    /// `true` when the value is JSON `null`.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// The members when this is an object.
    public var objectMembers: [JSONMember]? {
        if case .object(let m) = self { return m }
        return nil
    }

    /// The elements when this is an array.
    public var arrayElements: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }
}

/// One `"key": value` member of a JSON object.
public struct JSONMember: Sendable, Hashable {
    public var key: String
    public var value: JSONValue

    public init(_ key: String, _ value: JSONValue) {
        self.key = key
        self.value = value
    }
}

/// Why a body could not be parsed as JSON. Carries a position, never the body.
public struct JSONParseError: Error, Sendable, CustomStringConvertible {
    public var offset: Int
    public var reason: String
    public var description: String { "invalid JSON at byte \(offset): \(reason)" }
}

extension JSONValue {
    /// Parses one JSON document (RFC 8259). Trailing whitespace is allowed, trailing content is not.
    ///
    /// Strict: invalid UTF-8, lone surrogates, duplicate object keys and anything over `limits` are errors.
    /// - Parameters:
    ///   - bytes: the UTF-8 JSON text.
    ///   - limits: the bounds; ``JSONLimits/standard`` unless a caller needs others.
    /// - Throws: ``JSONParseError``.
    public static func parse(_ bytes: some Collection<UInt8>, limits: JSONLimits = .standard) throws(JSONParseError)
        -> JSONValue
    {
        var parser = JSONParser(bytes: Array(bytes), limits: limits)
        return try parser.parseDocument()
    }

    /// Parses one JSON document from text.
    public static func parse(_ text: String) throws(JSONParseError) -> JSONValue {
        try parse(Array(text.utf8))
    }

    /// Compact JSON text. Numbers are written with their stored text.
    public func serialized() -> String {
        var out = ""
        out.reserveCapacity(128)
        write(into: &out)
        return out
    }

    func write(into out: inout String) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let n): out += n
        case .string(let s): JSONValue.writeString(s, into: &out)
        case .array(let elements):
            out += "["
            for (i, e) in elements.enumerated() {
                if i > 0 { out += "," }
                e.write(into: &out)
            }
            out += "]"
        case .object(let members):
            out += "{"
            for (i, m) in members.enumerated() {
                if i > 0 { out += "," }
                JSONValue.writeString(m.key, into: &out)
                out += ":"
                m.value.write(into: &out)
            }
            out += "}"
        }
    }

    static func writeString(_ s: String, into out: inout String) {
        out += "\""
        // Most strings need no escaping: copy them whole.
        guard s.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) else {
            out += s
            out += "\""
            return
        }
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }
}

/// Builds JSON object text member by member, so callers control the exact text of numbers (A3, F5).
public struct JSONObjectWriter: Sendable {
    private var members: [JSONMember] = []

    public init() {}

    /// Appends a string member.
    public mutating func string(_ key: String, _ value: String?) {
        if let value { members.append(JSONMember(key, .string(value))) }
    }

    /// Appends a number member whose text is written verbatim. The text must be a valid JSON number.
    public mutating func number(_ key: String, text: String?) {
        if let text { members.append(JSONMember(key, .number(text))) }
    }

    /// Appends any value.
    public mutating func value(_ key: String, _ value: JSONValue?) {
        if let value { members.append(JSONMember(key, value)) }
    }

    /// The object built so far.
    public var object: JSONValue { .object(members) }

    /// The compact JSON text of the object.
    public func serialized() -> String { object.serialized() }
}
