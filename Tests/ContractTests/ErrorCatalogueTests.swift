import Foundation
import Testing

/// Drift check: every error code PayBridge's code can put into an event (`data.error.code`,
/// `data.lastCheckError.code`) or a dead letter (`x-paybridge-dead-letter-code`) is listed in docs/contract.md's
/// "Error catalogue" section, written as `` `CODE` ``.
///
/// How the codes are found: Sources/ is read as text (no build artefacts, no reflection), so a code added anywhere
/// in PayBridge's error paths is seen without anyone registering it.
/// 1. Files: every `.swift` file under Sources/, except the targets that are not PayBridge's error path
///    (``ErrorCatalogue/excludedTargets``: the AMQP client's own errors, the provider sandbox, which *plays* the
///    providers and so names their codes, and test/benchmark kits). Comment lines (`//`, `///`) are skipped.
/// 2. A code is a string literal made of upper-case letters, digits and `_`, at least 3 characters (`TIMEOUT`,
///    `NOT_FOUND`, `HTTP_404`), or an interpolated `"HTTP_\(…)"`, which stands for the catalogue's `HTTP_<nnn>`. A
///    literal counts when it stands:
///    a. on a line that uses `code` as a word: argument labels (`code: "X"`), assignments (`code = "X"`,
///       `code = errorText ?? "X"`), comparisons (`error.code == "X"`) — how `ProviderError`, `OutcomeError`,
///       `CommandHeaders.Problem`, dead letters and the delivery rules are given their codes;
///    b. inside a computed property `var code: String { … }` (``CommandRejection`` maps its reasons there);
///    c. inside a type whose name ends in `ErrorCode` or `FailedCode` (the providers' documented code tables);
///    d. as the value of a `static let name = "X"` whose name appears on a line of kind (a), e.g.
///       `code = Self.notFound`.
/// 3. Literals that match these rules but are not codes are listed in ``ErrorCatalogue/notCodes`` with the reason.
///
/// Provider codes that PayBridge only passes through (FirstPay's 401 texts, unknown Amanpay codes) are not literals
/// in Sources/ and are not checked here; the catalogue says that unlisted provider codes pass through with their class.
@Suite struct ErrorCatalogueTests {
    @Test func everyErrorCodeInSourcesIsInTheCatalogue() throws {
        let found = try ErrorCatalogue.codesInSources()
        // The scan itself must work: a wrong path or a broken rule would otherwise pass vacuously.
        for anchor in ["BAD_JSON", "SCHEMA_VIOLATION", "TIMEOUT", "HTTP_<nnn>", "NOT_FOUND", "TRANSACTION_NOT_FOUND",
                       "CALLBACK_PAYMENT_UNKNOWN", "INSUFFICIENT_WALLET_BALANCE"] {
            #expect(found[anchor] != nil, "the scan of Sources/ no longer finds \(anchor): is the rule still right?")
        }
        #expect(found.count >= 50, "only \(found.count) codes found in Sources/")
        let catalogue = try ErrorCatalogue.catalogueSection()
        let missing = found.keys.sorted().filter { !catalogue.contains("`\($0)`") }
        #expect(missing.isEmpty, """
            error codes used in Sources/ but missing from docs/contract.md, "Error catalogue": \
            \(missing.map { "\($0) (\(found[$0]!.sorted().prefix(2).joined(separator: ", ")))" }.joined(separator: "; "))
            """)
    }

    /// The scanning rules on a synthetic file, so a change to them is deliberate.
    @Test func theScanFindsCodesByTheirRules() {
        let source = #"""
            // code: "IN_A_COMMENT"
            throw ProviderError(provider: .amanpay, operation: "x", errorClass: .transient, code: "LABELLED",
                                message: "NOT A CODE because the line has no code word? it does; but lower case")
            var code = "ASSIGNED"
            if error.code == "COMPARED" { }
            code = text ?? "FALLBACK"
            let status = "NOT_COUNTED"
            public var code: String {
                switch reason {
                case .a: "IN_CODE_PROPERTY"
                }
            }
            public enum ProviderErrorCode {
                public static let declines: Set<String> = ["IN_CODE_TABLE"]
            }
            public static let notFound = "VIA_CONSTANT"
            x = y(code: Self.notFound)
            throw E(code: "HTTP_\(response.status)")
            let after = "AFTER_TABLE"
            """#
        let codes = Set(ErrorCatalogue.codes(inSwift: source).keys)
        #expect(codes == ["LABELLED", "ASSIGNED", "COMPARED", "FALLBACK", "IN_CODE_PROPERTY", "IN_CODE_TABLE",
                          "VIA_CONSTANT", "HTTP_<nnn>"])
    }
}

enum ErrorCatalogue {
    /// Targets under Sources/ that are not PayBridge's error path.
    static let excludedTargets: Set<String> = [
        "AMQP", "AMQPBench",  // the broker client's own errors (reply codes), never an event's error code
        "ProviderSandbox", "ProviderSandboxServer",  // the fake providers: they emit provider codes, PayBridge reads them
        "BrokerTestKit", "PayBridgeBench",  // test and benchmark support
    ]

    /// Literals the rules match that are not error codes.
    static let notCodes: [String: String] = [
        "SIGNATURE": "CallbackHandler tests whether a code contains this word, to answer 401 instead of 400",
    ]

    /// code → where it was found (`path:line`).
    static func codesInSources() throws -> [String: Set<String>] {
        let sources = Repo.root.appendingPathComponent("Sources")
        var found: [String: Set<String>] = [:]
        let targets = try FileManager.default.contentsOfDirectory(atPath: sources.path).sorted()
        for target in targets where !excludedTargets.contains(target) {
            let dir = sources.appendingPathComponent(target)
            guard let files = FileManager.default.enumerator(atPath: dir.path) else { continue }
            for case let file as String in files where file.hasSuffix(".swift") {
                let text = try Repo.read(dir.appendingPathComponent(file))
                for (code, lines) in codes(inSwift: text) {
                    found[code, default: []].formUnion(lines.map { "Sources/\(target)/\(file):\($0)" })
                }
            }
        }
        return found
    }

    /// The codes in one Swift file by the rules above: code → line numbers (1-based).
    static func codes(inSwift text: String) -> [String: Set<Int>] {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var found: [String: Set<Int>] = [:]
        func add(_ code: String, _ line: Int) {
            guard notCodes[code] == nil else { return }
            found[code, default: []].insert(line)
        }
        // (d) string constants, to be resolved where a code line names them.
        var constants: [String: (value: String, line: Int)] = [:]
        for (index, line) in lines.enumerated() where !isComment(line) {
            if let m = firstMatch(constantPattern, line), let name = m[1], let value = m[2] {
                constants[name] = (value, index + 1)
            }
        }
        var blockDepth: Int?  // inside (b) or (c) while non-nil
        for (index, line) in lines.enumerated() {
            if isComment(line) { continue }
            if blockDepth == nil, firstMatch(blockStartPattern, line) != nil { blockDepth = 0 }
            let codeLine = firstMatch(codeWordPattern, line) != nil
            if codeLine || blockDepth != nil {
                for literal in matches(literalPattern, line) {
                    add(literal.hasPrefix("HTTP_\\(") ? "HTTP_<nnn>" : literal, index + 1)
                }
            }
            if codeLine {
                for (name, constant) in constants where firstMatch(wordPattern(name), line) != nil {
                    add(constant.value, constant.line)
                }
            }
            if let depth = blockDepth {
                // Braces counted as written (the start line has its `{`); a block ends where they balance.
                let next = depth + line.filter { $0 == "{" }.count - line.filter { $0 == "}" }.count
                blockDepth = next > 0 ? next : nil
            }
        }
        return found
    }

    /// The text of docs/contract.md's "Error catalogue" section (up to the next `## ` heading).
    static func catalogueSection() throws -> String {
        let text = try Repo.read(Repo.root.appendingPathComponent("docs/contract.md"))
        guard let start = text.range(of: "\n## Error catalogue\n") else {
            Issue.record("docs/contract.md has no \"## Error catalogue\" section")
            return ""
        }
        let rest = text[start.upperBound...]
        let end = rest.range(of: "\n## ")?.lowerBound ?? rest.endIndex
        return String(rest[..<end])
    }

    // MARK: Patterns

    static let literalPattern = regex(#""([A-Z][A-Z0-9_]{2,}|HTTP_\\\([^"]*\))""#)
    static let codeWordPattern = regex(#"\bcode\b"#)
    static let blockStartPattern = regex(#"\bvar code: String \{|\b(enum|struct) \w*(ErrorCode|FailedCode)\b[^{]*\{"#)
    static let constantPattern = regex(#"\bstatic let (\w+) = "([A-Z][A-Z0-9_]{2,})""#)
    static func wordPattern(_ word: String) -> NSRegularExpression {
        regex(#"\b"# + NSRegularExpression.escapedPattern(for: word) + #"\b"#)
    }

    static func isComment(_ line: String) -> Bool {
        line.trimmingCharacters(in: .whitespaces).hasPrefix("//")
    }

    static func regex(_ pattern: String) -> NSRegularExpression {
        try! NSRegularExpression(pattern: pattern)
    }

    /// Group 1 of every match.
    static func matches(_ regex: NSRegularExpression, _ line: String) -> [String] {
        let range = NSRange(line.startIndex..., in: line)
        return regex.matches(in: line, range: range).compactMap { m in
            Range(m.range(at: 1), in: line).map { String(line[$0]) }
        }
    }

    /// The groups of the first match (index 0 = the whole match); `nil` when none.
    static func firstMatch(_ regex: NSRegularExpression, _ line: String) -> [String?]? {
        let range = NSRange(line.startIndex..., in: line)
        guard let m = regex.firstMatch(in: line, range: range) else { return nil }
        return (0..<m.numberOfRanges).map { Range(m.range(at: $0), in: line).map { String(line[$0]) } }
    }
}
