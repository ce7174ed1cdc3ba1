// Fuzz target: ASCIIPattern, the schema `pattern` matcher.
// Input: pattern text, a NUL byte, subject text (without a NUL: the whole input is a subject for every pattern of
// the contract's schemas).
// Properties: compiling and matching return (linear time: libFuzzer's -timeout catches a blow-up); on ASCII text the
// answer agrees with ICU (NSRegularExpression) wherever ICU accepts the pattern, on subjects short enough that ICU's backtracking stays cheap and
// without the characters where ECMA-262 and ICU differ on purpose (`\n \v \f \r`: `$`, `.` and `\s`).
import Foundation
import StrictJSON
@testable import PayBridgeContract

let contractPatterns: [(ASCIIPattern, NSRegularExpression)] = {
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
    for path in ContractSchemas.paths {
        if let text = ContractSchemas.text(atPath: path), let schema = try? JSONValue.parse(text) { collect(schema) }
    }
    return found.sorted().map { (ASCIIPattern($0)!, try! NSRegularExpression(pattern: $0)) }
}()

let randomPatternOracle = ProcessInfo.processInfo.environment["FUZZ_ICU_ORACLE"] != "0"

func icuMatches(_ regex: NSRegularExpression, _ text: String) -> Bool {
    regex.firstMatch(in: text, range: NSRange(text.startIndex..<text.endIndex, in: text)) != nil
}

func comparable(_ subject: [UInt8]) -> Bool {
    // ICU's line terminators (`$` matches before a final one, `.` matches none) are \n \v \f \r; ECMA-262's are
    // \n \r only, and `\s` differs on \v.
    subject.count <= 24 && !subject.contains(where: { $0 >= 0x80 || (0x0A...0x0D).contains($0) })
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzASCIIPattern(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = fuzzBytes(data, size)
    guard let nul = bytes.firstIndex(of: 0) else {
        let subject = String(decoding: bytes, as: UTF8.self)
        for (pattern, regex) in contractPatterns {
            let fast = pattern.matches(subject)
            fuzzCheck((fast == nil) == bytes.contains(where: { $0 >= 0x80 }), "ASCII text not matched")
            if let fast, comparable(bytes) {
                fuzzCheck(fast == icuMatches(regex, subject), "differs from ICU on \(subject.debugDescription)")
            }
        }
        return 0
    }
    let patternBytes = bytes[..<nul]
    let subjectBytes = Array(bytes[(nul + 1)...])
    // The empty pattern (matches everything) is refused by Foundation's NSRegularExpression on Linux: no oracle.
    guard !patternBytes.isEmpty, patternBytes.count <= 64, let patternText = String(validating: patternBytes, as: UTF8.self),
        let pattern = ASCIIPattern(patternText)
    else { return 0 }
    let subject = String(decoding: subjectBytes, as: UTF8.self)
    let fast = pattern.matches(subject)
    guard let fast, comparable(subjectBytes) else { return 0 }
    // A pattern ICU refuses makes the validator refuse its schema at start-up (both are compiled), so it never
    // matches a command: no oracle. (ICU's class syntax differs from ECMA-262's in many corners — `[+-[]`, `[(--]`,
    // `[\w-x]`, `[-&-Y]` — the first three are now left to ICU by ASCIIPattern; see the corpus's finding-* inputs.)
    // ICU is an oracle with quirks of its own (class syntax, giving up on empty repetitions): `make fuzz` compares
    // random patterns with it, `make fuzz-ci` (FUZZ_ICU_ORACLE=0) only the contract's patterns, so that CI fails on
    // PayBridge's bugs, not on a new ICU quirk.
    guard randomPatternOracle, let regex = try? NSRegularExpression(pattern: patternText) else { return 0 }
    // ICU gives up (no match) when a counted repetition holds something that can match empty, e.g.
    // `((((()*){90})b)?)` on "" or `(b||){88}b` on "a}b\0ab" (ECMA-262: a match): no oracle for a pattern with a
    // counted quantifier and a part that can match empty. The contract's own patterns are still compared (above).
    guard !mayRepeatEmptyMatches(patternText) else { return 0 }
    // ICU reads `&` in a class as set syntax (`[\x1Cw-x&-w?-]` matches differently): no oracle there either.
    guard !patternText.contains("&") else { return 0 }
    fuzzCheck(
        fast == icuMatches(regex, subject),
        "\(patternText.debugDescription) on \(subject.debugDescription): ASCIIPattern \(fast), ICU \(!fast)")
    return 0
}

/// Whether `pattern` has a counted quantifier (`{`) and something that can match empty (`*`, `?`, `()`, `{0`, an
/// empty alternative).
func mayRepeatEmptyMatches(_ pattern: String) -> Bool {
    pattern.contains("{") && ["*", "?", "()", "{0", "||", "(|", "|)"].contains { pattern.contains($0) }
}
