import Foundation
import StrictJSON

/// A compact JSON Schema 2020-12 validator for the subset PayBridge's schemas use.
///
/// Supported keywords: boolean schemas, `type` (string or list; `integer` = a number without fractional part),
/// `enum`, `const` (numbers compared by exact decimal value), `properties`, `required`, `additionalProperties`,
/// `propertyNames`, `minProperties`/`maxProperties`, `items`, `minItems`/`maxItems`, `minLength`/`maxLength`
/// (Unicode code points), `pattern` (unanchored; ECMA-262 semantics through ``ASCIIPattern`` for the common
/// subset on ASCII text, ICU's `NSRegularExpression` otherwise),
/// `minimum`/`maximum`/`exclusiveMinimum`/`exclusiveMaximum` (exact decimal), `$ref` to `#`-pointers within the
/// same document (typically `#/$defs/...`), `allOf`/`anyOf`/`oneOf`/`not`, `if`/`then`/`else`, and
/// `format: date-time` (asserted leniently: RFC 3339 shape). Annotation keywords (`title`, `description`,
/// `examples`, `$comment`, `default`, `$id`, `$schema`) are ignored; unknown keywords are ignored.
///
/// The validator is immutable and `Sendable`: build one per schema at start-up and share it.
public struct JSONSchemaValidator: Sendable {
    /// The schema document.
    public let schema: JSONValue
    /// Every subschema the walk can reach, with its keywords looked up once; `nodes[0]` is the root.
    /// Held by reference: a visit reads a node's keywords in place instead of copying (and retaining) every one.
    private let nodes: [CompiledSchema.Node]

    /// Prepares a validator: compiles every `pattern`, checks that every `$ref` resolves, and turns the document
    /// into a table of subschemas whose keywords need no dictionary lookups while validating.
    /// - Parameter schema: the schema document (root).
    /// - Throws: ``SchemaError`` when a pattern does not compile or a `$ref` does not resolve.
    public init(schema: JSONValue) throws(SchemaError) {
        self.schema = schema
        var sources: Set<String> = []
        var refs: [String] = []
        Self.collect(schema, patterns: &sources, refs: &refs)
        var patterns: [String: SchemaPattern] = [:]
        for p in sources {
            do {
                patterns[p] = SchemaPattern(source: p, regex: try NSRegularExpression(pattern: p), ascii: ASCIIPattern(p))
            } catch {
                throw SchemaError(reason: "pattern \(p) does not compile")
            }
        }
        var references: [String: JSONValue] = [:]
        for ref in refs {
            guard let target = Self.resolve(ref, in: schema) else {
                throw SchemaError(reason: "$ref \(ref) does not resolve")
            }
            references[ref] = target
        }
        var compiler = SchemaCompiler(patterns: patterns, references: references)
        _ = compiler.compile(schema)
        nodes = compiler.nodes.map(CompiledSchema.Node.init)
    }

    /// Validates an instance.
    /// - Parameter instance: the JSON value to check.
    /// - Returns: every violation found, in document order of the schema walk; empty when valid.
    public func validate(_ instance: JSONValue) -> [SchemaValidationError] {
        // Most instances are valid: a first walk builds no paths or messages and only says whether anything
        // failed; the second, which explains every violation, runs only when something did.
        var failed: [SchemaValidationError] = []
        check(0, instance, instancePath: "", schemaPath: "#", depth: 0, errors: &failed, quick: true)
        guard !failed.isEmpty else { return [] }
        var errors: [SchemaValidationError] = []
        check(0, instance, instancePath: "", schemaPath: "#", depth: 0, errors: &errors, quick: false)
        return errors
    }

    /// `validate(instance).isEmpty`.
    public func isValid(_ instance: JSONValue) -> Bool { validate(instance).isEmpty }

    // MARK: - Walk

    private static let maximumDepth = 64
    /// What a `quick` walk records for any violation: it only tells that something failed.
    private static let failedMarker = SchemaValidationError(instancePath: "", schemaPath: "", message: "invalid")

    /// Checks `instance` against subschema `node`, appending violations to `errors`. With `quick`, the decisions
    /// are the same but paths and messages are not built (a marker is appended instead) and object members are
    /// visited in any order: `errors` is empty afterwards exactly when a full walk would find nothing.
    private func check(
        _ node: Int, _ instance: JSONValue, instancePath: String, schemaPath: String, depth: Int,
        errors: inout [SchemaValidationError], quick: Bool
    ) {
        /// A path for a nested walk: built only when the walk explains violations.
        func path(_ full: @autoclosure () -> String) -> String { quick ? "" : full() }
        func report(_ at: String, _ keywordPath: @autoclosure () -> String, _ message: @autoclosure () -> String) {
            errors.append(
                quick
                    ? Self.failedMarker
                    : SchemaValidationError(instancePath: at, schemaPath: keywordPath(), message: message()))
        }
        func fail(_ keyword: String, _ message: @autoclosure () -> String) {
            report(instancePath, schemaPath + "/" + keyword, message())
        }
        let s = nodes[node]
        switch s.schema.form {
        case .anything: return
        case .nothing:
            report(instancePath, schemaPath, "is not allowed")
            return
        case .keywords: break
        }
        guard depth < Self.maximumDepth else {
            fail("$ref", "schema nesting too deep (recursive $ref?)")
            return
        }

        if let ref = s.schema.ref {
            check(ref.node, instance, instancePath: instancePath, schemaPath: ref.path, depth: depth + 1,
                  errors: &errors, quick: quick)
        }

        if let types = s.schema.types {
            let actual = instance.schemaTypeName
            if !types.contains(where: { $0 == actual || (actual == "integer" && $0 == "number") }) {
                fail("type", "must be \(types.joined(separator: " or ")), not \(actual)")
                return  // Further keywords would only repeat the type problem.
            }
        }
        if let options = s.schema.enumValues, !options.contains(where: { $0.isSemanticallyEqual(to: instance) }) {
            fail("enum", "must be one of \(options.map(\.serializedString).joined(separator: ", "))")
        }
        if let c = s.schema.const, !c.isSemanticallyEqual(to: instance) {
            fail("const", "must be \(c.serializedString)")
        }

        switch instance {
        case .string(let str):
            var tooLong = false
            if s.schema.minLength != nil || s.schema.maxLength != nil {
                let length = str.unicodeScalars.count
                if let min = s.schema.minLength, length < min { fail("minLength", "must be at least \(min) characters long") }
                if let max = s.schema.maxLength, length > max {
                    fail("maxLength", "must be at most \(max) characters long")
                    tooLong = true
                }
            }
            // Length first: a string already too long is not also run through the pattern.
            if !tooLong, let pattern = s.schema.pattern, !pattern.matches(str) {
                fail("pattern", "must match pattern \(pattern.source)")
            }
            if s.schema.isDateTime, !Self.isDateTime(str) {
                fail("format", "must be an RFC 3339 date-time (e.g. 2026-01-31T12:00:00Z)")
            }
        case .number(let n):
            if let m = s.schema.minimum, n.compare(to: m) < 0 { fail("minimum", "must be ≥ \(m)") }
            if let m = s.schema.maximum, n.compare(to: m) > 0 { fail("maximum", "must be ≤ \(m)") }
            if let m = s.schema.exclusiveMinimum, n.compare(to: m) <= 0 { fail("exclusiveMinimum", "must be > \(m)") }
            if let m = s.schema.exclusiveMaximum, n.compare(to: m) >= 0 { fail("exclusiveMaximum", "must be < \(m)") }
        case .array(let elements):
            if let min = s.schema.minItems, elements.count < min { fail("minItems", "must have at least \(min) items") }
            if let max = s.schema.maxItems, elements.count > max { fail("maxItems", "must have at most \(max) items") }
            if let items = s.schema.items {
                for (k, element) in elements.enumerated() {
                    check(
                        items, element, instancePath: path(instancePath + "/\(k)"),
                        schemaPath: path(schemaPath + "/items"), depth: depth + 1, errors: &errors, quick: quick)
                }
            }
        case .object(let members):
            for name in s.schema.required where members[name] == nil {
                fail("required", "required property '\(name)' is missing")
            }
            if let min = s.schema.minProperties, members.count < min {
                fail("minProperties", "must have at least \(min) properties")
            }
            if let max = s.schema.maxProperties, members.count > max {
                fail("maxProperties", "must have at most \(max) properties")
            }
            guard s.schema.hasMemberKeywords else { break }
            func visit(_ key: String, _ value: JSONValue) {
                let childPath = path(instancePath + "/" + Self.escapePointer(key))
                if let propertyNames = s.schema.propertyNames {
                    // Only whether the name passes matters (the violation is reported for the member).
                    var nameErrors: [SchemaValidationError] = []
                    check(propertyNames, .string(key), instancePath: "", schemaPath: "", depth: depth + 1,
                          errors: &nameErrors, quick: true)
                    if !nameErrors.isEmpty {
                        report(childPath, schemaPath + "/propertyNames", "property name '\(key)' is not allowed here")
                    }
                }
                if let propertySchema = s.schema.properties[key] {
                    check(
                        propertySchema, value, instancePath: childPath,
                        schemaPath: path(schemaPath + "/properties/" + Self.escapePointer(key)), depth: depth + 1,
                        errors: &errors, quick: quick)
                } else if let additional = s.schema.additionalProperties {
                    if nodes[additional].schema.form == .nothing {
                        report(childPath, schemaPath + "/additionalProperties", "property '\(key)' is not allowed")
                    } else {
                        check(
                            additional, value, instancePath: childPath,
                            schemaPath: path(schemaPath + "/additionalProperties"), depth: depth + 1,
                            errors: &errors, quick: quick)
                    }
                }
            }
            if quick {
                for (key, value) in members { visit(key, value) }
            } else {
                for key in members.keys.sorted() { visit(key, members[key]!) }
            }
        default: break
        }

        if let subs = s.schema.allOf {
            for (k, sub) in subs.enumerated() {
                check(
                    sub, instance, instancePath: instancePath, schemaPath: path(schemaPath + "/allOf/\(k)"),
                    depth: depth + 1, errors: &errors, quick: quick)
            }
        }
        if let subs = s.schema.anyOf {
            var firstBranchErrors: [SchemaValidationError]? = nil
            var matched = false
            for (k, sub) in subs.enumerated() {
                var branch: [SchemaValidationError] = []
                check(
                    sub, instance, instancePath: instancePath, schemaPath: path(schemaPath + "/anyOf/\(k)"),
                    depth: depth + 1, errors: &branch, quick: quick)
                if branch.isEmpty {
                    matched = true
                    break
                }
                if firstBranchErrors == nil { firstBranchErrors = branch }
            }
            if !matched {
                fail("anyOf", "must match at least one of \(subs.count) alternatives" + Self.hint(firstBranchErrors))
            }
        }
        if let subs = s.schema.oneOf {
            var matches = 0
            var firstBranchErrors: [SchemaValidationError]? = nil
            for (k, sub) in subs.enumerated() {
                var branch: [SchemaValidationError] = []
                check(
                    sub, instance, instancePath: instancePath, schemaPath: path(schemaPath + "/oneOf/\(k)"),
                    depth: depth + 1, errors: &branch, quick: quick)
                if branch.isEmpty { matches += 1 } else if firstBranchErrors == nil { firstBranchErrors = branch }
            }
            if matches == 0 {
                fail("oneOf", "must match exactly one of \(subs.count) alternatives" + Self.hint(firstBranchErrors))
            } else if matches > 1 {
                fail("oneOf", "must match exactly one of \(subs.count) alternatives, matches \(matches)")
            }
        }
        if let not = s.schema.not {
            var branch: [SchemaValidationError] = []
            check(not, instance, instancePath: instancePath, schemaPath: schemaPath, depth: depth + 1, errors: &branch,
                  quick: true)
            if branch.isEmpty { fail("not", "is not allowed") }
        }
        if let condition = s.schema.if {
            var branch: [SchemaValidationError] = []
            check(
                condition, instance, instancePath: instancePath, schemaPath: schemaPath, depth: depth + 1,
                errors: &branch, quick: true)
            if branch.isEmpty, let then = s.schema.then {
                check(
                    then, instance, instancePath: instancePath, schemaPath: path(schemaPath + "/then"),
                    depth: depth + 1, errors: &errors, quick: quick)
            } else if !branch.isEmpty, let otherwise = s.schema.else {
                check(
                    otherwise, instance, instancePath: instancePath, schemaPath: path(schemaPath + "/else"),
                    depth: depth + 1, errors: &errors, quick: quick)
            }
        }
    }

    private static func hint(_ errors: [SchemaValidationError]?) -> String {
        guard let first = errors?.first else { return "" }
        return " (first alternative: \(first))"
    }

    // MARK: - Helpers

    /// RFC 6901 escaping of one reference token.
    static func escapePointer(_ token: String) -> String {
        guard token.utf8.contains(where: { $0 == UInt8(ascii: "~") || $0 == UInt8(ascii: "/") }) else { return token }
        return token.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1")
    }

    /// Resolves `#` or `#/a/b` (JSON Pointer fragment) against the root document.
    static func resolve(_ ref: String, in root: JSONValue) -> JSONValue? {
        guard ref.hasPrefix("#") else { return nil }
        let pointer = ref.dropFirst()
        if pointer.isEmpty { return root }
        guard pointer.hasPrefix("/") else { return nil }
        var node = root
        for raw in pointer.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
            let token = String(raw).removingPercentEncoding ?? String(raw)
            let key = token.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
            switch node {
            case .object(let o):
                guard let next = o[key] else { return nil }
                node = next
            case .array(let a):
                guard let k = Int(key), a.indices.contains(k) else { return nil }
                node = a[k]
            default: return nil
            }
        }
        return node
    }

    /// Collects `pattern` strings and `$ref`s of every subschema (values under `examples`, `enum`, `const` and
    /// `default` are data, not schemas, and are skipped).
    private static func collect(_ node: JSONValue, patterns: inout Set<String>, refs: inout [String]) {
        switch node {
        case .object(let o):
            for (key, value) in o {
                switch key {
                case "examples", "enum", "const", "default": continue
                case "pattern":
                    if case .string(let p) = value { patterns.insert(p) } else { collect(value, patterns: &patterns, refs: &refs) }
                case "$ref":
                    if case .string(let r) = value { refs.append(r) } else { collect(value, patterns: &patterns, refs: &refs) }
                default: collect(value, patterns: &patterns, refs: &refs)
                }
            }
        case .array(let a):
            for v in a { collect(v, patterns: &patterns, refs: &refs) }
        default: break
        }
    }

    /// Lenient RFC 3339 check: the shape `YYYY-MM-DD(T|t| )hh:mm:ss(.fraction)?(Z|z|±hh:mm)`, plus month 01–12,
    /// day 01–31, hour ≤ 23, minute ≤ 59, second ≤ 60. (Byte by byte: it runs for every command's `time`.)
    static func isDateTime(_ s: String) -> Bool {
        let b = Array(s.utf8)
        func digits(_ at: Int, _ n: Int) -> Int? {
            guard at + n <= b.count else { return nil }
            var value = 0
            for byte in b[at..<at + n] {
                guard byte >= 48, byte <= 57 else { return nil }
                value = value * 10 + Int(byte - 48)
            }
            return value
        }
        func byte(_ at: Int, _ allowed: String) -> Bool { at < b.count && allowed.utf8.contains(b[at]) }
        guard digits(0, 4) != nil, byte(4, "-"), let month = digits(5, 2), byte(7, "-"), let day = digits(8, 2),
            byte(10, "Tt "), let hour = digits(11, 2), byte(13, ":"), let minute = digits(14, 2), byte(16, ":"),
            let second = digits(17, 2)
        else { return false }
        var at = 19
        if byte(at, ".") {
            at += 1
            let start = at
            while digits(at, 1) != nil { at += 1 }
            guard at > start else { return false }
        }
        if byte(at, "Zz") {
            at += 1
        } else if byte(at, "+-"), digits(at + 1, 2) != nil, byte(at + 3, ":"), digits(at + 4, 2) != nil {
            at += 6
        } else {
            return false
        }
        return at == b.count && (1...12).contains(month) && (1...31).contains(day) && hour <= 23 && minute <= 59
            && second <= 60
    }
}
