/// PayBridge's one JSON value, for commands, events, provider requests, responses and callbacks: numbers exactly
/// as written, object members in the order written.
///
/// PayBridge moves money: `250.50` must stay `250.50`, never become the binary floating-point number closest to it,
/// and both providers sign the exact text of a body (A3, F1). `JSONValue` therefore stores numbers as their literal
/// text (``JSONNumber``) and objects as ordered members (``JSONObject``), with one parser and one writer, instead
/// of `JSONSerialization`/`Codable`, which go through `Double` and a dictionary.
///
/// Two ways to write it: ``serialized()`` is canonical (keys sorted by UTF-16 code units, the RFC 8785 order), so
/// the same event always serializes to the same bytes; ``compactText`` keeps member order, for bodies that are
/// signed as sent.
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case number(JSONNumber)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    /// Parses one JSON text (RFC 8259) from UTF-8 bytes.
    ///
    /// Strict: no comments, no trailing commas, no duplicate object keys, no lone surrogates, invalid UTF-8 is an
    /// error, and so is anything over `limits` (nesting, number, string and container sizes).
    /// - Parameters:
    ///   - bytes: the UTF-8 encoded JSON text.
    ///   - limits: the bounds; ``JSONLimits/standard`` unless a caller needs others.
    /// - Returns: the parsed value.
    /// - Throws: ``JSONParseError`` with the byte offset of the problem.
    public static func parse(_ bytes: some Collection<UInt8>, limits: JSONLimits = .standard) throws(JSONParseError)
        -> JSONValue
    {
        var parser = JSONParser(bytes: Array(bytes), limits: limits)
        return try parser.parseDocument()
    }

    /// Parses one JSON text from a string.
    /// - Parameter text: the JSON text.
    /// - Returns: the parsed value.
    /// - Throws: ``JSONParseError``.
    public static func parse(_ text: String) throws(JSONParseError) -> JSONValue {
        try parse(Array(text.utf8))
    }

    /// Canonical UTF-8 serialization: no insignificant whitespace, object keys sorted by UTF-16 code units, number
    /// literals written exactly as stored, strings escaped minimally (`"`, `\`, and control characters only).
    /// - Returns: the UTF-8 bytes.
    public func serialized() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(2048)  // an outcome event is 1–2 KB: one allocation instead of four
        JSONWriter.write(self, sortingKeys: true, into: &out)
        return out
    }

    /// ``serialized()`` as a `String`.
    public var serializedString: String { String(decoding: serialized(), as: UTF8.self) }

    /// Text indented by two spaces, members in their order: for files people read and diff.
    public var prettyText: String {
        var out: [UInt8] = []
        JSONWriter.writePretty(self, indent: "", into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Compact text with object members in their order and numbers as stored: what is sent and signed.
    public var compactText: String {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        JSONWriter.write(self, sortingKeys: false, into: &out)
        return String(decoding: out, as: UTF8.self)
    }
}

extension JSONValue {
    /// The string, when this is a string.
    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// The object, when this is an object.
    public var objectValue: JSONObject? {
        if case .object(let o) = self { return o }
        return nil
    }

    /// The object's members in order, when this is an object.
    public var objectMembers: [JSONMember]? {
        if case .object(let o) = self { return o.members }
        return nil
    }

    /// The number's literal text, when this is a number.
    public var numberText: String? {
        if case .number(let n) = self { return n.text }
        return nil
    }

    /// A string or a number as text (A8: ids arrive as either); `nil` for other kinds.
    public var scalarText: String? {
        switch self {
        case .string(let s): s
        case .number(let n): n.text
        default: nil
        }
    }

    /// The elements, when this is an array.
    public var arrayValue: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    /// The elements, when this is an array (the name provider code uses).
    public var arrayElements: [JSONValue]? { arrayValue }

    /// The boolean, when this is a boolean.
    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    /// The number, when this is a number.
    public var numberValue: JSONNumber? {
        if case .number(let n) = self { return n }
        return nil
    }

    /// True for `null`.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// The member `key` of an object, or `nil` (also when this is not an object).
    public subscript(key: String) -> JSONValue? {
        if case .object(let o) = self { return o[key] }
        return nil
    }

    /// The JSON Schema type name of this value (`"integer"` for numbers without a fractional part).
    public var schemaTypeName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .number(let n): n.isInteger ? "integer" : "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }

    /// `.string(s)` or `.null` when `s` is `nil`.
    public static func stringOrNull(_ s: String?) -> JSONValue {
        s.map(JSONValue.string) ?? .null
    }

    /// Equality by JSON meaning: numbers compare by value (`1.0 == 1`), everything else structurally.
    ///
    /// `==` compares number literals textually (so `"250.50"` and `"250.5"` differ, which is what money wants);
    /// JSON Schema's `enum`/`const` use this instead.
    public func isSemanticallyEqual(to other: JSONValue) -> Bool {
        switch (self, other) {
        case (.number(let a), .number(let b)): return a.compare(to: b) == 0
        case (.array(let a), .array(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.isSemanticallyEqual(to: $1) }
        case (.object(let a), .object(let b)):
            guard a.count == b.count else { return false }
            for (k, v) in a {
                guard let w = b[k], v.isSemanticallyEqual(to: w) else { return false }
            }
            return true
        default: return self == other
        }
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByBooleanLiteral, ExpressibleByNilLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByIntegerLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(nilLiteral: ()) { self = .null }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(integerLiteral value: Int) { self = .number(JSONNumber(value)) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(JSONObject(elements.map { JSONMember($0.0, $0.1) }))
    }
}

extension JSONValue: CustomStringConvertible {
    public var description: String { serializedString }
}
