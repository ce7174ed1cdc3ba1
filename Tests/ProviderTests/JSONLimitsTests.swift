import PaymentVocabulary
import ProviderCore
import StrictJSON
import Testing

/// Provider responses and callbacks are parsed as strictly as commands: refused, never repaired.
@Suite("ProviderCore JSON limits")
struct JSONLimitsTests {
    let limits = JSONLimits.standard

    func reason(_ bytes: [UInt8]) -> String? {
        do {
            _ = try JSONValue.parse(bytes)
            return nil
        } catch {
            return error.reason
        }
    }
    func reason(_ text: String) -> String? { reason(Array(text.utf8)) }

    @Test func sameLimitsAsTheContract() {
        #expect(limits.maximumDepth == 32)
        #expect(limits.maximumNumberLength == 100)
        #expect(limits.maximumStringBytes == 65_536)
        #expect(limits.maximumContainerCount == 10_000)
    }

    @Test func depthNumbersStringsAndContainersAreBounded() throws {
        let n = limits.maximumDepth
        _ = try JSONValue.parse(String(repeating: "[", count: n) + String(repeating: "]", count: n))
        #expect(reason(String(repeating: "[", count: n + 1) + String(repeating: "]", count: n + 1)) == "nesting deeper than 32")
        let longestNumber = "1" + String(repeating: "0", count: 99)
        #expect(try JSONValue.parse("[\(longestNumber)]") == .array([.number(JSONNumber(trusted: longestNumber))]))
        #expect(reason("[\(longestNumber)0]") == "number literal longer than 100 characters")
        let longest = String(repeating: "a", count: 65_536)
        #expect(try JSONValue.parse("\"\(longest)\"") == .string(longest))
        #expect(reason("\"\(longest)a\"") == "string longer than 65536 bytes")
        #expect(reason("\"\\t\(longest)\"") == "string longer than 65536 bytes")
        let over = "[" + Array(repeating: "0", count: 10_001).joined(separator: ",") + "]"
        #expect(reason(over) == "array has more than 10000 elements")
        let members = (0...10_000).map { "\"k\($0)\":0" }
        #expect(reason("{" + members.joined(separator: ",") + "}") == "object has more than 10000 members")
    }

    @Test func duplicateKeysAreRefused() throws {
        #expect(reason(#"{"status":"SUCCESS","status":"FAILED"}"#) == "duplicate object key")
        #expect(reason(#"{"a":1,"\u0061":2}"#) == "duplicate object key")
        // Beyond the linear scan (16 members) the set takes over.
        let many = (0..<40).map { "\"k\($0)\":0" }
        #expect(try JSONValue.parse("{" + many.joined(separator: ",") + "}").objectMembers?.count == 40)
        #expect(reason("{" + (many + ["\"k7\":1"]).joined(separator: ",") + "}") == "duplicate object key")
        #expect(reason("{" + (many + ["\"k39\":1"]).joined(separator: ",") + "}") == "duplicate object key")
    }

    @Test func invalidUTF8AndLoneSurrogatesAreErrors() throws {
        // Overlong '/', encoded surrogate, above U+10FFFF, truncated: once silently replaced with U+FFFD.
        for bad: [UInt8] in [[0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xC3], [0xFF]] {
            #expect(reason(Array(#"{"k":""#.utf8) + bad + Array(#""}"#.utf8)) == "invalid UTF-8 in string")
            #expect(reason(Array(#"["\n"#.utf8) + bad + Array(#""]"#.utf8)) == "invalid UTF-8 in string")
        }
        #expect(reason(#"["\ud800"]"#) == "lone high surrogate in \\u escape")
        #expect(reason(#"["\ud800\u0041"]"#) == "invalid low surrogate")
        #expect(reason(#"["\udc00"]"#) == "lone low surrogate in \\u escape")
        #expect(try JSONValue.parse(#"["\ud83d\ude00é"]"#) == .array([.string("😀é")]))
    }

    @Test func controlCharactersMustBeEscaped() {
        #expect(reason(Array(#"[""#.utf8) + [0x0A] + Array(#""]"#.utf8)) == "unescaped control character in string")
        #expect(reason(Array(#"["\n"#.utf8) + [0x01] + Array(#""]"#.utf8)) == "unescaped control character in string")
    }
}

@Suite("DecimalAmount on outside input")
struct DecimalAmountInputTests {
    @Test func longAmountsAreExactNotTraps() throws {
        let forty = String(repeating: "9", count: 40)
        let a = try #require(DecimalAmount(forty + ".50"))
        #expect(a.minimalText == forty + ".5")
        #expect(a.significantDigits == 41)
        #expect(!a.isJavaScriptExact)  // FirstPay refuses it with a clear error (F5), never rounds
        // Exponents beyond ±400 are refused rather than expanded (or overflowing).
        #expect(DecimalAmount("1e401") == nil)
        #expect(DecimalAmount("1e" + String(repeating: "9", count: 40)) == nil)
        #expect(DecimalAmount("1e-400")?.minimalText == "0." + String(repeating: "0", count: 399) + "1")
    }

    @Test func leadingAndTrailingZerosAreTrimmedInOnePass() throws {
        let zeros = String(repeating: "0", count: 200_000)
        let a = try #require(DecimalAmount(zeros + "1.50" + zeros))
        #expect(a == DecimalAmount("1.5"))
        #expect(a.minimalText == "1.5")
        #expect(DecimalAmount(zeros + "." + zeros)?.isZero == true)
        #expect(DecimalAmount("-" + zeros)?.isNegative == false)
        #expect(DecimalAmount("0.000e2")?.minimalText == "0")
        #expect(DecimalAmount("12.5e-3")?.minimalText == "0.0125")
    }
}
