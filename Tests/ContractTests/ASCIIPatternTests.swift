import Foundation
import StrictJSON
import Testing

@testable import PayBridgeContract

@Suite struct ASCIIPatternTests {
    /// Every `pattern` in the contract's schemas.
    static let contractPatterns: [String] = {
        var found: Set<String> = []
        func collect(_ value: JSONValue) {
            switch value {
            case .object(let members):
                for (key, member) in members {
                    if key == "pattern", case .string(let p) = member { found.insert(p) } else { collect(member) }
                }
            case .array(let elements): elements.forEach(collect)
            default: break
            }
        }
        for path in ContractSchemas.paths { collect(try! JSONValue.parse(ContractSchemas.text(atPath: path)!)) }
        return found.sorted()
    }()

    /// Deterministic pseudo-random numbers (SplitMix64), so a failure reproduces.
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    func icu(_ pattern: String, _ text: String) throws -> Bool {
        try NSRegularExpression(pattern: pattern)
            .firstMatch(in: text, range: NSRange(text.startIndex..<text.endIndex, in: text)) != nil
    }

    @Test func everyContractPatternIsInTheSubset() {
        #expect(Self.contractPatterns.count >= 5)
        for pattern in Self.contractPatterns { #expect(ASCIIPattern(pattern) != nil, "\(pattern)") }
    }

    /// Random texts built from pieces the patterns care about, compared with ICU. Texts contain no line breaks,
    /// where the two differ on purpose (see `dollarAndDotFollowECMA262`).
    @Test func agreesWithICUOnRandomTexts() throws {
        let extra = [
            "^a|b$", "(ab)+c", "x{2,}", "^[^0-9]*$", "a.c", "\\d+\\.\\d{2}", "^(?:ab|a)(?:bc|c)$", "[\\w-]+@[a-z]+",
            "^\\s*\\S+\\s*$", "^(a?){2}b$", "(a|ab)(c|bcd)(d*)", "^[-+]?[0-9]{1,3}(,[0-9]{3})*$", "[.]", "a{0}b",
        ]
        let pieces = [
            "0", "1", "9", "00", "250", ".", ".5", ".50", ".505", "-", "+", "e", "a", "b", "c", "d", "ab", "x", "Z",
            "USD", "bkash", "application/", "json", "cloudevents+", ";", " charset=utf-8", " ", "\t", "_", "@", ",",
        ]
        let examples = [
            "250.50", "0.01", "0.00", "0.1", "1", "-0.5", "01", "BDT", "bkash", "application/json",
            "application/cloudevents+json; charset=utf-8", "text/json", "xx", "abc", "ac", "01712345678",
        ]
        var random = SplitMix(state: 2026_11_21)
        for pattern in Self.contractPatterns + extra {
            let fast = try #require(ASCIIPattern(pattern), "\(pattern)")
            var matched = 0
            let texts = examples + (0..<400).map { _ in
                (0..<Int.random(in: 0...6, using: &random)).map { _ in pieces.randomElement(using: &random)! }.joined()
            }
            for text in texts {
                let expected = try icu(pattern, text)
                #expect(fast.matches(text) == expected, "\(pattern) on \(text.debugDescription)")
                if expected { matched += 1 }
            }
            // Both answers were exercised.
            #expect(matched > 0 && matched < texts.count, "\(pattern): \(matched) of \(texts.count) matched")
        }
    }

    @Test func dollarAndDotFollowECMA262() throws {
        let currency = try #require(ASCIIPattern("^[A-Z]{3}$"))
        #expect(currency.matches("USD") == true)
        // ICU's `$` also matches before a final line break; JSON Schema's (ECMA-262) does not.
        #expect(try icu("^[A-Z]{3}$", "USD\n"))
        #expect(currency.matches("USD\n") == false)
        #expect(ASCIIPattern("^a.c$")?.matches("a\nc") == false)
        #expect(ASCIIPattern("^a.c$")?.matches("a\u{0B}c") == true)
    }

    @Test func nestedRepeatsOfAnEmptyGroupAreRefusedAtOnce() {
        // Emits no instruction at all, so only a bound on the compile's work stops 900 × 900 × 900 steps.
        #expect(ASCIIPattern("((((){900}){900}^[0-9]&$){900})") == nil)
    }

    @Test func patternsOutsideTheSubsetAndNonASCIITextAreLeftToICU() {
        for pattern in ["(?=a)", "a*?", "(a)\\1", "[[:alpha:]]", "é", "[]a]", "[a&&b]", "\\bword", "a{2", "*a", "(a", "[+-[]", "[(--]", "[%-&&]", "[\\w-x]"] {
            #expect(ASCIIPattern(pattern) == nil, "\(pattern)")
        }
        #expect(ASCIIPattern("^[a-z]+$")?.matches("café") == nil)
    }

    @Test func theValidatorUsesECMASemanticsForASCIIText() throws {
        let validator = try JSONSchemaValidator(schema: JSONValue.parse(#"{"pattern":"^[A-Z]{3}$"}"#))
        #expect(validator.isValid(.string("BDT")))
        #expect(!validator.isValid(.string("BDT\n")))
        #expect(!validator.isValid(.string("BDTX")))
    }
}
