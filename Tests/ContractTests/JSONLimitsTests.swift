import StrictJSON
import Testing

@testable import PayBridgeContract

/// The contract parser refuses, never repairs: malformed UTF-8, lone surrogates, duplicate keys, and anything over
/// ``JSONLimits``.
@Suite struct JSONLimitsTests {
    let limits = JSONLimits.standard

    func parseError(_ bytes: [UInt8]) -> JSONParseError? {
        do {
            _ = try JSONValue.parse(bytes)
            return nil
        } catch {
            return error
        }
    }
    func parseError(_ text: String) -> JSONParseError? { parseError(Array(text.utf8)) }

    @Test func standardLimits() {
        #expect(limits == JSONLimits(maximumDepth: 32, maximumNumberLength: 100, maximumStringBytes: 65_536,
                                     maximumContainerCount: 10_000))
    }

    @Test func nestingIsBoundedByMaximumDepth() throws {
        let n = limits.maximumDepth
        _ = try JSONValue.parse(String(repeating: "[", count: n) + String(repeating: "]", count: n))
        let deep = parseError(String(repeating: "[", count: n + 1) + String(repeating: "]", count: n + 1))
        #expect(deep?.reason == "nesting deeper than \(n)")
        #expect(deep?.offset == n)
        // Far deeper input fails at the bound without walking (or recursing) further.
        let veryDeep = parseError(String(repeating: "{\"a\":", count: 100_000))
        #expect(veryDeep?.reason == "nesting deeper than \(n)")
    }

    @Test func numberLiteralsAreBounded() throws {
        let longest = "1" + String(repeating: "0", count: limits.maximumNumberLength - 1)
        #expect(try JSONValue.parse("[\(longest)]") == .array([.number(JSONNumber(longest)!)]))
        let error = parseError("[\(longest)0]")
        #expect(error == JSONParseError(offset: 1, reason: "number literal longer than 100 characters"))
        // The 300,000-digit literal that once cost a second per schema walk is refused by the parser.
        #expect(parseError("[1" + String(repeating: "0", count: 300_000) + "]")?.offset == 1)
    }

    @Test func stringsAreBoundedWithAndWithoutEscapes() throws {
        let max = limits.maximumStringBytes
        let longest = String(repeating: "a", count: max)
        #expect(try JSONValue.parse("\"\(longest)\"") == .string(longest))
        #expect(parseError("\"\(longest)a\"") == JSONParseError(offset: 1, reason: "string longer than 65536 bytes"))
        // Unterminated and far longer: still stopped at the bound.
        #expect(parseError("\"" + String(repeating: "a", count: 1_000_000))?.reason == "string longer than 65536 bytes")
        // Escapes count after unescaping: `\n` is one byte, `\u00e9` two.
        let escaped = "\\n" + String(repeating: "a", count: max - 1)
        #expect(try JSONValue.parse("\"\(escaped)\"").stringValue?.utf8.count == max)
        #expect(parseError("\"\\n\(longest)\"")?.reason == "string longer than 65536 bytes")
        #expect(parseError("\"" + String(repeating: "\\u00e9", count: max / 2 + 1) + "\"")?.reason
                == "string longer than 65536 bytes")
        // Keys are strings too.
        #expect(parseError("{\"\(longest)a\":1}")?.reason == "string longer than 65536 bytes")
    }

    @Test func containersAreBounded() throws {
        let max = limits.maximumContainerCount
        let full = "[" + Array(repeating: "0", count: max).joined(separator: ",") + "]"
        #expect(try JSONValue.parse(full).arrayValue?.count == max)
        let over = "[" + Array(repeating: "0", count: max + 1).joined(separator: ",") + "]"
        #expect(parseError(over)?.reason == "array has more than 10000 elements")
        let members = (0...max).map { "\"k\($0)\":0" }
        #expect(try JSONValue.parse("{" + members.dropLast().joined(separator: ",") + "}").objectValue?.count == max)
        #expect(parseError("{" + members.joined(separator: ",") + "}")?.reason == "object has more than 10000 members")
    }

    @Test func duplicateKeysAreRefused() {
        #expect(parseError(#"{"a":1,"b":2,"a":3}"#) == JSONParseError(offset: 13, reason: "duplicate object key"))
        // Equal after unescaping is equal.
        #expect(parseError(#"{"a":1,"\u0061":2}"#)?.reason == "duplicate object key")
    }

    @Test(arguments: [
        ([0xC0, 0xAF], "overlong '/'"),
        ([0xE0, 0x80, 0xAF], "overlong '/' in three bytes"),
        ([0xED, 0xA0, 0x80], "encoded high surrogate U+D800"),
        ([0xED, 0xBF, 0xBF], "encoded low surrogate U+DFFF"),
        ([0xF4, 0x90, 0x80, 0x80], "above U+10FFFF"),
        ([0xC3], "truncated sequence"),
        ([0x80], "lone continuation byte"),
        ([0xFF], "never valid"),
    ] as [([UInt8], String)])
    func invalidUTF8IsAnError(bytes: [UInt8], what: String) {
        let text = Array(#"{"k":"x"#.utf8) + bytes + Array(#""}"#.utf8)
        #expect(parseError(text) == JSONParseError(offset: 6, reason: "invalid UTF-8 in string"), "\(what)")
        // With an escape in the string (the slower path), and as a key.
        #expect(parseError(Array(#"["\n"#.utf8) + bytes + Array(#""]"#.utf8))?.reason == "invalid UTF-8 in string")
        #expect(parseError(Array(#"{""#.utf8) + bytes + Array(#"":1}"#.utf8))?.reason == "invalid UTF-8 in string")
    }

    @Test func loneSurrogateEscapesAreErrors() throws {
        #expect(parseError(#"["\ud800"]"#)?.reason == "lone high surrogate in \\u escape")
        #expect(parseError(#"["\ud800x"]"#)?.reason == "lone high surrogate in \\u escape")
        #expect(parseError(#"["\ud800\u0041"]"#)?.reason == "invalid low surrogate")
        #expect(parseError(#"["\udc00"]"#)?.reason == "lone low surrogate in \\u escape")
        #expect(parseError(#"["\udc00\ud800"]"#)?.reason == "lone low surrogate in \\u escape")
        #expect(try JSONValue.parse(#"["\ud83d\ude00"]"#) == .array([.string("😀")]))
    }

    @Test func controlCharactersMustBeEscaped() throws {
        for c in [0x00, 0x09, 0x0A, 0x1F] as [UInt8] {
            #expect(parseError(Array(#"[""#.utf8) + [c] + Array(#""]"#.utf8))?.reason
                    == "unescaped control character in string")
        }
        #expect(try JSONValue.parse(#"["\u0000\t"]"#) == .array([.string("\u{0}\t")]))
        #expect(try JSONValue.parse(Array(#"[""#.utf8) + [0x7F] + Array(#""]"#.utf8)) == .array([.string("\u{7F}")]))
    }

    @Test func tighterLimitsCanBeAsked() {
        let tight = JSONLimits(maximumDepth: 1, maximumNumberLength: 3, maximumStringBytes: 2, maximumContainerCount: 2)
        #expect(throws: JSONParseError.self) { try JSONValue.parse(Array("[[]]".utf8), limits: tight) }
        #expect(throws: JSONParseError.self) { try JSONValue.parse(Array("[1000]".utf8), limits: tight) }
        #expect(throws: JSONParseError.self) { try JSONValue.parse(Array(#"["abc"]"#.utf8), limits: tight) }
        #expect(throws: JSONParseError.self) { try JSONValue.parse(Array("[1,2,3]".utf8), limits: tight) }
        #expect((try? JSONValue.parse(Array(#"[1,"ab"]"#.utf8), limits: tight)) != nil)
    }
}
