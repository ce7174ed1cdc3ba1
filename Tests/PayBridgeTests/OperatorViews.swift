import Foundation

/// The operators' views in `deploy/` and the `paybridge_*` metric names their PromQL queries: the Grafana dashboard
/// (every panel target and template-variable query) and the Prometheus rules (every `expr:`).
enum OperatorViews {
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    static let dashboardPath = "deploy/grafana-dashboard.json"
    static let rulesPath = "deploy/prometheus-rules.yaml"

    static func read(_ path: String) throws -> String {
        try String(contentsOf: repositoryRoot.appendingPathComponent(path), encoding: .utf8)
    }

    /// Every string under an `expr`, `query` or `definition` key of the dashboard model, at any depth.
    static func dashboardExpressions(_ json: String) throws -> [String] {
        func collect(_ value: Any, key: String?) -> [String] {
            switch value {
            case let text as String: return key.map { ["expr", "query", "definition"].contains($0) } == true ? [text] : []
            case let object as [String: Any]: return object.flatMap { collect($0.value, key: $0.key) }
            case let array as [Any]: return array.flatMap { collect($0, key: key) }
            default: return []
            }
        }
        return collect(try JSONSerialization.jsonObject(with: Data(json.utf8)), key: nil)
    }

    /// The value of every `expr:` key of the rules file: inline (plain or quoted) or a block scalar (`|`, `|-`,
    /// `>-`: the lines indented deeper than the key).
    static func ruleExpressions(_ yaml: String) -> [String] {
        let lines = yaml.split(separator: "\n", omittingEmptySubsequences: false)
        var expressions: [String] = []
        for (index, line) in lines.enumerated() {
            let content = line.drop { $0 == " " || $0 == "-" }
            guard content.hasPrefix("expr:") else { continue }
            let indent = line.prefix { $0 == " " || $0 == "-" }.count
            let value = content.dropFirst("expr:".count).trimmingCharacters(in: .whitespaces)
            if value.hasPrefix("|") || value.hasPrefix(">") {
                let block = lines[(index + 1)...].prefix { next in
                    next.allSatisfy { $0 == " " } || next.prefix { $0 == " " }.count > indent
                }
                expressions.append(block.map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " "))
            } else if value.count >= 2, let quote = value.first, quote == "\"" || quote == "'", value.last == quote {
                expressions.append(String(value.dropFirst().dropLast()))
            } else {
                expressions.append(value)
            }
        }
        return expressions
    }

    /// The number of rules (`- alert:` and `- record:` entries) in the rules file.
    static func ruleCount(_ yaml: String) -> Int {
        yaml.split(separator: "\n").filter { line in
            let content = line.drop { $0 == " " }
            return content.hasPrefix("- alert:") || content.hasPrefix("- record:")
        }.count
    }

    /// The `paybridge_*` metric names in a PromQL expression; string literals (label values, regexes) are skipped.
    static func metricNames(in expression: String) -> Set<String> {
        var names: Set<String> = []
        var quote: Character?
        var escaped = false
        var word = ""
        func endWord() {
            if word.hasPrefix("paybridge_") { names.insert(word) }
            word = ""
        }
        for character in expression {
            if let open = quote {
                if escaped { escaped = false } else if character == "\\" { escaped = true } else if character == open { quote = nil }
                continue
            }
            if character == "\"" || character == "'" || character == "`" {
                endWord()
                quote = character
            } else if character.isASCII && (character.isLetter || character.isNumber || character == "_" || character == ":") {
                word.append(character)
            } else {
                endWord()
            }
        }
        endWord()
        return names
    }
}
