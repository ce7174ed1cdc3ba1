import StrictJSON

@testable import PayBridgeContract

/// Checks that a schema version only widened relative to a frozen baseline ("within v1 only additive changes").
///
/// Conservative structural comparison, walking both schemas in parallel (following local `$ref`s in each):
/// - a property of the baseline is missing, or a property schema became `false`;
/// - `type` lost a type (`number` → `integer` is a narrowing; `integer` → `number` is not), or appeared where there
///   was none — unless it names every JSON type (``everyJSONType``), which restricts nothing: how a field that takes
///   any JSON value (`data.raw`) gets a `type` code generators can use;
/// - `enum` lost a value, or appeared; `const` appeared or changed;
/// - `pattern` appeared or changed (regex inclusion is not decidable here, so any change counts), `format` appeared
///   or changed;
/// - `minLength`/`minimum`/`exclusiveMinimum`/`minItems`/`minProperties` appeared or grew; the `max…` counterparts
///   appeared or shrank — except that a `maxLength` of at least ``safetyMaxLengthFloor`` may appear where there was
///   none (a safety bound against oversized input, chosen far above any value a provider accepts; see
///   docs/contract.md, "Limits");
/// - `required` gained a name;
/// - `additionalProperties` went from allowed (absent/`true`/a schema) to `false`, or its schema narrowed;
/// - `allOf` gained a branch, `anyOf`/`oneOf` lost one, `if`/`propertyNames` appeared or changed;
/// - `not` appeared or changed, unless it excludes only values the baseline never accepted (the baseline lists its
///   values with `enum`/`const`, and the `not` is a list of values none of which the baseline lists);
/// - `then`/`else` narrowed; with the same `if` they are compared like any subschema (a changed `if` is reported);
/// - `anyOf` appeared, unless one of its branches accepts everything the baseline accepted there (how an `enum` is
///   made tolerant within v1: `{"anyOf": [{"enum": [known values]}, {later values}]}`, docs/contract.md,
///   "Versioning"); `oneOf` appeared.
///
/// Adding an optional property is treated as additive even where `additionalProperties` is open (documented
/// choice: consumers ignore unknown fields).
enum SchemaCompatibility {
    /// The smallest `maxLength` that may be added within a version where a string had none. Below it, a bound could
    /// reject a value some producer sends today; at or above it, the bound only stops abuse.
    static let safetyMaxLengthFloor = 64

    /// The JSON types; a `type` naming all of them (`integer` is within `number`) accepts every value.
    static let everyJSONType: Set<String> = ["object", "array", "string", "number", "boolean", "null"]

    /// Compares two schema documents.
    /// - Parameters:
    ///   - baseline: the frozen schema.
    ///   - current: the schema now.
    /// - Returns: every narrowing found; empty when `current` accepts at least what `baseline` accepts (as far as
    ///   this check can tell).
    static func narrowings(baseline: JSONValue, current: JSONValue) -> [CompatibilityIssue] {
        var walker = Walker(baselineRoot: baseline, currentRoot: current)
        walker.compare(baseline, current, path: "#", depth: 0)
        return walker.issues
    }

    private struct Walker {
        let baselineRoot: JSONValue
        let currentRoot: JSONValue
        var issues: [CompatibilityIssue] = []

        mutating func report(_ path: String, _ message: String) {
            issues.append(CompatibilityIssue(path: path, message: message))
        }

        /// Follows `$ref` chains when the schema is only a reference (siblings other than annotations ignored).
        func deref(_ s: JSONValue, root: JSONValue) -> JSONValue {
            var s = s
            var hops = 0
            while case .string(let ref)? = s["$ref"], hops < 16, let target = JSONSchemaValidator.resolve(ref, in: root) {
                // Merge the referencing object's own keywords (other than $ref) over the target.
                if case .object(var o) = s, case .object(let t) = target {
                    o["$ref"] = nil
                    var merged = t
                    for (key, value) in o { merged[key] = value }
                    s = .object(merged)
                } else {
                    s = target
                }
                hops += 1
            }
            return s
        }

        mutating func compare(_ b0: JSONValue, _ c0: JSONValue, path: String, depth: Int) {
            guard depth < 48 else { return }
            let b = deref(b0, root: baselineRoot)
            let c = deref(c0, root: currentRoot)
            if case .bool(false) = b { return }  // Nothing was accepted: anything is wider.
            if case .bool(false) = c {
                report(path, "schema became false (nothing accepted)")
                return
            }
            let bo = b.objectValue ?? [:]  // `true` = {}
            let co = c.objectValue ?? [:]

            // type
            let bTypes = typeSet(bo["type"])
            let cTypes = typeSet(co["type"])
            if let cTypes {
                if let bTypes {
                    for t in bTypes.sorted() where !cTypes.contains(t) && !(t == "integer" && cTypes.contains("number")) {
                        report(path + "/type", "type '\(t)' is no longer accepted")
                    }
                } else if !cTypes.isSuperset(of: SchemaCompatibility.everyJSONType) {
                    report(path + "/type", "type restriction added (\(cTypes.sorted().joined(separator: ", ")))")
                }
            }
            // enum / const
            if case .array(let cEnum)? = co["enum"] {
                if case .array(let bEnum)? = bo["enum"] {
                    for v in bEnum where !cEnum.contains(where: { $0.isSemanticallyEqual(to: v) }) {
                        report(path + "/enum", "enum value \(v.serializedString) was removed")
                    }
                } else if let bConst = bo["const"] {
                    if !cEnum.contains(where: { $0.isSemanticallyEqual(to: bConst) }) {
                        report(path + "/enum", "const value \(bConst.serializedString) is no longer accepted")
                    }
                } else {
                    report(path + "/enum", "enum restriction added")
                }
            }
            if let cConst = co["const"] {
                if let bConst = bo["const"] {
                    if !bConst.isSemanticallyEqual(to: cConst) { report(path + "/const", "const changed") }
                } else if case .array(let bEnum)? = bo["enum"], bEnum.count == 1, bEnum[0].isSemanticallyEqual(to: cConst) {
                    // enum [x] → const x: same.
                } else {
                    report(path + "/const", "const restriction added")
                }
            }
            // Keywords compared by equality: any new or changed value narrows (conservatively).
            for keyword in ["pattern", "format", "if", "propertyNames"] {
                if let cv = co[keyword], bo[keyword].map({ !$0.isSemanticallyEqual(to: cv) }) ?? true {
                    report(path + "/" + keyword, bo[keyword] == nil ? "\(keyword) added" : "\(keyword) changed")
                }
            }
            // `not`: a new or changed one narrows, unless it excludes only values the baseline never accepted.
            if let cv = co["not"], bo["not"].map({ !$0.isSemanticallyEqual(to: cv) }) ?? true,
                !Self.excludesNothing(acceptedBy: bo, not: cv)
            {
                report(path + "/not", bo["not"] == nil ? "not added" : "not changed")
            }
            // `then`/`else`: under the same `if` a branch may widen like any subschema (`if → then` accepts more when
            // `then` does); under a changed `if` (reported above) any change of them is reported too.
            let sameIf = bo["if"].map { b in co["if"].map { b.isSemanticallyEqual(to: $0) } ?? false } ?? (co["if"] == nil)
            for keyword in ["then", "else"] {
                guard let cv = co[keyword] else { continue }  // a removed branch accepts more
                if sameIf {
                    compare(bo[keyword] ?? .bool(true), cv, path: path + "/" + keyword, depth: depth + 1)
                } else if bo[keyword].map({ !$0.isSemanticallyEqual(to: cv) }) ?? true {
                    report(path + "/" + keyword, bo[keyword] == nil ? "\(keyword) added" : "\(keyword) changed")
                }
            }
            // Lower bounds must not grow, upper bounds must not shrink.
            for keyword in ["minLength", "minimum", "exclusiveMinimum", "minItems", "minProperties"] {
                if let cv = co[keyword]?.numberValue {
                    if let bv = bo[keyword]?.numberValue {
                        if cv.compare(to: bv) > 0 { report(path + "/" + keyword, "\(keyword) raised from \(bv) to \(cv)") }
                    } else {
                        report(path + "/" + keyword, "\(keyword) \(cv) added")
                    }
                }
            }
            for keyword in ["maxLength", "maximum", "exclusiveMaximum", "maxItems", "maxProperties"] {
                if let cv = co[keyword]?.numberValue {
                    if let bv = bo[keyword]?.numberValue {
                        if cv.compare(to: bv) < 0 { report(path + "/" + keyword, "\(keyword) lowered from \(bv) to \(cv)") }
                    } else if keyword == "maxLength", cv.compare(to: JSONNumber(SchemaCompatibility.safetyMaxLengthFloor)) >= 0 {
                        continue  // a safety bound (see `safetyMaxLengthFloor`)
                    } else {
                        report(path + "/" + keyword, "\(keyword) \(cv) added")
                    }
                }
            }
            // required
            let bRequired = Set(bo["required"]?.arrayValue?.compactMap(\.stringValue) ?? [])
            for name in (co["required"]?.arrayValue?.compactMap(\.stringValue) ?? []) where !bRequired.contains(name) {
                report(path + "/required", "property '\(name)' became required")
            }
            // properties
            let bProps = bo["properties"]?.objectValue ?? [:]
            let cProps = co["properties"]?.objectValue ?? [:]
            for name in bProps.keys.sorted() {
                let childPath = path + "/properties/" + JSONSchemaValidator.escapePointer(name)
                if let cp = cProps[name] {
                    compare(bProps[name]!, cp, path: childPath, depth: depth + 1)
                } else if case .bool(false) = bProps[name]! {
                    // A forbidden property no longer listed: wider, not narrower.
                } else {
                    // Even where additionalProperties would still accept it, a documented field disappeared.
                    report(childPath, "property '\(name)' was removed")
                }
            }
            // additionalProperties
            let bAdditional = bo["additionalProperties"] ?? .bool(true)
            if let cAdditional = co["additionalProperties"] {
                compare(bAdditional, cAdditional, path: path + "/additionalProperties", depth: depth + 1)
            }
            // items
            if let ci = co["items"] {
                compare(bo["items"] ?? .bool(true), ci, path: path + "/items", depth: depth + 1)
            }
            // Compositions, positionally.
            let bAll = bo["allOf"]?.arrayValue ?? []
            let cAll = co["allOf"]?.arrayValue ?? []
            if cAll.count > bAll.count { report(path + "/allOf", "allOf gained \(cAll.count - bAll.count) branch(es)") }
            for k in 0..<min(bAll.count, cAll.count) {
                compare(bAll[k], cAll[k], path: path + "/allOf/\(k)", depth: depth + 1)
            }
            for keyword in ["anyOf", "oneOf"] {
                guard let cs = co[keyword]?.arrayValue else { continue }
                guard let bs = bo[keyword]?.arrayValue else {
                    // A new `anyOf` accepts at least what the baseline did when one branch does (the node's other
                    // keywords are compared above): e.g. an enum made tolerant, `anyOf: [{enum: known}, {later}]`.
                    if keyword == "anyOf", cs.contains(where: { covers(b, $0, path: path, depth: depth) }) { continue }
                    report(path + "/" + keyword, "\(keyword) added")
                    continue
                }
                if cs.count < bs.count { report(path + "/" + keyword, "\(keyword) lost \(bs.count - cs.count) branch(es)") }
                for k in 0..<min(bs.count, cs.count) {
                    compare(bs[k], cs[k], path: path + "/\(keyword)/\(k)", depth: depth + 1)
                }
            }
        }

        /// Whether `branch` accepts everything `baseline` accepts, as far as this check can tell: comparing them finds
        /// no narrowing.
        func covers(_ baseline: JSONValue, _ branch: JSONValue, path: String, depth: Int) -> Bool {
            var probe = Walker(baselineRoot: baselineRoot, currentRoot: currentRoot)
            probe.compare(baseline, branch, path: path, depth: depth + 1)
            return probe.issues.isEmpty
        }

        /// Whether `not: notSchema` rejects nothing the baseline node accepted: the node accepts only the values it
        /// lists (`enum` or `const`), and `notSchema` is only a list of values (`enum`/`const`, annotations aside)
        /// sharing none with it. Anything else (a `not` of a type, a pattern, a `$ref`) counts as a narrowing.
        static func excludesNothing(acceptedBy baseline: JSONObject, not notSchema: JSONValue) -> Bool {
            var accepted: [JSONValue]
            if case .array(let values)? = baseline["enum"] {
                accepted = values
            } else if let value = baseline["const"] {
                accepted = [value]
            } else {
                return false
            }
            if case .array(let values)? = baseline["enum"], let value = baseline["const"] {
                accepted = values.filter { $0.isSemanticallyEqual(to: value) }
            }
            guard let n = notSchema.objectValue else { return false }
            let annotations: Set<String> = ["description", "title", "$comment", "examples"]
            guard n.keys.allSatisfy({ $0 == "enum" || $0 == "const" || annotations.contains($0) }),
                n["enum"] != nil || n["const"] != nil
            else { return false }
            // `not {enum E, const c}` excludes only E ∩ {c}; taking the union instead is the conservative side.
            var excluded = n["enum"]?.arrayValue ?? []
            if let value = n["const"] { excluded.append(value) }
            return !accepted.contains { a in excluded.contains { $0.isSemanticallyEqual(to: a) } }
        }

        func typeSet(_ v: JSONValue?) -> Set<String>? {
            switch v {
            case .string(let t)?: [t]
            case .array(let ts)?: Set(ts.compactMap(\.stringValue))
            default: nil
            }
        }
    }
}
