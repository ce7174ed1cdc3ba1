import StrictJSON
import Testing

@testable import PayBridgeContract

@Suite struct JSONValueTests {
    @Test func numberLiteralsKeepTheirExactText() throws {
        let v = try JSONValue.parse(#"{"amount":250.50,"b":1000000.00,"c":0.01,"d":-1.5e-3,"e":12345678901234567890.123}"#)
        #expect(v["amount"] == .number(JSONNumber("250.50")!))
        #expect(v["amount"]?.numberValue?.text == "250.50")
        #expect(v["b"]?.numberValue?.text == "1000000.00")
        #expect(
            v.serializedString == #"{"amount":250.50,"b":1000000.00,"c":0.01,"d":-1.5e-3,"e":12345678901234567890.123}"#)
    }

    @Test func serializationIsCanonical() throws {
        let a = try JSONValue.parse(" { \"b\" : [1, true, null], \"a\" : \"x\", \"é\": 1, \"Z\": {} } ")
        #expect(a.serializedString == #"{"Z":{},"a":"x","b":[1,true,null],"é":1}"#)
        // Same value, different input order and whitespace, same bytes.
        let b = try JSONValue.parse(#"{"é":1,"a":"x","Z":{},"b":[1,true,null]}"#)
        #expect(a.serialized() == b.serialized())
    }

    @Test func objectKeysSortByUTF16CodeUnitsIncludingAboveTheBMP() throws {
        // U+10000 (a surrogate pair in UTF-16) sorts before U+E000, unlike in code point or UTF-8 order.
        let keys = ["b", "a", "ab", "é", "\u{E000}", "\u{10000}", "\u{FFFF}", "\u{1F600}", "a\u{E000}", "a\u{10000}", ""]
        let object = JSONValue.object(JSONObject(keys.map { JSONMember($0, .null) }))
        let expected = keys.sorted { $0.utf16.lexicographicallyPrecedes($1.utf16) }
        #expect(expected.firstIndex(of: "\u{10000}")! < expected.firstIndex(of: "\u{E000}")!)
        #expect(object.serializedString == "{" + expected.map { "\"\($0)\":null" }.joined(separator: ",") + "}")
    }

    @Test func everyPairOfKeysIsWrittenInUTF16OrderWhicheverOrderItCameIn() {
        // Objects already in order are written without sorting: that check must use the same order, including a
        // pair in UTF-8 order that is not in UTF-16 order (U+E000 before U+10000).
        let keys = ["", "a", "ab", "b", "Z", "é", "\u{E000}", "\u{FFFF}", "\u{10000}", "\u{1F600}", "a\u{E000}",
                    "a\u{10000}", "\u{E000}a", "\u{10000}a"]
        for first in keys {
            for second in keys where second != first {
                let object = JSONValue.object(JSONObject([JSONMember(first, .null), JSONMember(second, .null)]))
                let ordered = first.utf16.lexicographicallyPrecedes(second.utf16) ? [first, second] : [second, first]
                #expect(object.serializedString == "{\"\(ordered[0])\":null,\"\(ordered[1])\":null}")
            }
        }
    }

    @Test func stringsRoundTripWithEscapes() throws {
        let text = #"["quote\" backslash\\ slash\/ nl\n tab\t ctl\u0001 snow\u2603 clef\ud834\udd1e"]"#
        let v = try JSONValue.parse(text)
        #expect(v.arrayValue?.first?.stringValue == "quote\" backslash\\ slash/ nl\n tab\t ctl\u{01} snow☃ clef𝄞")
        #expect(v.serializedString == #"["quote\" backslash\\ slash/ nl\n tab\t ctl\u0001 snow☃ clef𝄞"]"#)
        #expect(try JSONValue.parse(v.serialized()) == v)
    }

    @Test(arguments: [
        "", "{", "[1,]", "{\"a\":1,}", "01", "1.", ".5", "-", "1e", "+1", "NaN", "tru", "'a'", "{\"a\" 1}",
        "[1 2]", "\"\\x\"", "\"\\ud800\"", "\"\\udc00\"", "{\"a\":1,\"a\":2}", "1 2", "\"a\nb\"", "{a:1}",
    ])
    func rejectsInvalidJSON(_ text: String) {
        #expect(throws: JSONParseError.self) { try JSONValue.parse(text) }
    }

    @Test func rejectsInvalidUTF8() {
        #expect(throws: JSONParseError.self) { try JSONValue.parse([0x22, 0xC3, 0x28, 0x22]) }
    }

    @Test func rejectsExcessiveNesting() {
        let deep = String(repeating: "[", count: 300) + String(repeating: "]", count: 300)
        #expect(throws: JSONParseError.self) { try JSONValue.parse(deep) }
        let ok = String(repeating: "[", count: 32) + String(repeating: "]", count: 32)
        #expect((try? JSONValue.parse(ok)) != nil)
    }

    @Test func parseErrorsCarryTheOffset() {
        do {
            _ = try JSONValue.parse(#"{"a":1,}"#)
            Issue.record("expected an error")
        } catch {
            #expect(error.offset == 7)
        }
    }

    @Test func numbersCompareByExactDecimalValue() {
        func n(_ s: String) -> JSONNumber { JSONNumber(s)! }
        #expect(n("250.50").compare(to: n("250.5")) == 0)
        #expect(n("1e2").compare(to: n("100")) == 0)
        #expect(n("0.1").compare(to: n("0.10000000000000000001")) == -1)
        #expect(n("-2").compare(to: n("-10")) == 1)
        #expect(n("0").compare(to: n("-0.0")) == 0)
        #expect(n("12345678901234567890").compare(to: n("12345678901234567891")) == -1)
        #expect(n("12.0").isInteger)
        #expect(!n("12.5").isInteger)
        #expect(n("1.2e1").intValue == 12)
        #expect(JSONNumber("01") == nil)
        #expect(JSONNumber("1.") == nil)
        #expect(JSONValue.number(n("250.50")) != .number(n("250.5")))
        #expect(JSONValue.number(n("250.50")).isSemanticallyEqual(to: .number(n("250.5"))))
    }

    @Test func objectsKeepMemberOrderFindEveryKeyAndCompareWithoutOrder() throws {
        // 40 members: past the size where a parsed object keeps an index.
        let keys = (0..<40).map { "k\($0)" }
        let text = "{" + keys.enumerated().map { "\"\($1)\":\($0)" }.joined(separator: ",") + "}"
        let forward = try JSONValue.parse(text)
        let backward = try JSONValue.parse("{" + keys.enumerated().reversed().map { "\"\($1)\":\($0)" }
            .joined(separator: ",") + "}")
        #expect(forward.objectMembers?.map(\.key) == keys, "member order as written")
        for (n, key) in keys.enumerated() { #expect(forward[key]?.numberValue?.intValue == n) }
        #expect(forward == backward && forward.hashValue == backward.hashValue, "equality ignores member order")
        #expect(forward.compactText == text)
        var object = try #require(forward.objectValue)
        object["k3"] = nil
        object["new"] = .bool(true)
        #expect(object["k3"] == nil && object["k4"] != nil && object["new"] == .bool(true))
        #expect(object.count == 40 && object.keys.last == "new")
    }
}
