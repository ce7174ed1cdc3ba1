import Foundation
import StrictJSON

/// One subschema of a ``JSONSchemaValidator``'s document with its keywords looked up once, so that validating an
/// instance costs no dictionary lookups of keyword names. Subschemas refer to each other by index into the
/// validator's node table (a `$ref` may point back up, so the table is not a tree).
struct CompiledSchema: Sendable {
    enum Form: Equatable, Sendable {
        /// `true`, or a value that is not a schema (nothing to check).
        case anything
        /// `false`.
        case nothing
        /// An object schema: the keywords below apply.
        case keywords
    }

    var form: Form
    var ref: (path: String, node: Int)?
    /// The accepted type names; `nil` when there is no usable `type` keyword.
    var types: [String]?
    var enumValues: [JSONValue]?
    var const: JSONValue?
    var minLength: Int?
    var maxLength: Int?
    var pattern: SchemaPattern?
    var isDateTime = false
    var minimum: JSONNumber?
    var maximum: JSONNumber?
    var exclusiveMinimum: JSONNumber?
    var exclusiveMaximum: JSONNumber?
    var minItems: Int?
    var maxItems: Int?
    var items: Int?
    var required: [String] = []
    var minProperties: Int?
    var maxProperties: Int?
    var properties: [String: Int] = [:]
    var additionalProperties: Int?
    var propertyNames: Int?
    var allOf: [Int]?
    var anyOf: [Int]?
    var oneOf: [Int]?
    var not: Int?
    var `if`: Int?
    var then: Int?
    var `else`: Int?

    /// Whether members of an object instance need a visit (`properties`, `additionalProperties`, `propertyNames`).
    var hasMemberKeywords: Bool { !properties.isEmpty || additionalProperties != nil || propertyNames != nil }

    init(form: Form) { self.form = form }

    /// A compiled node as the validator holds it: one reference per node.
    final class Node: Sendable {
        let schema: CompiledSchema
        init(_ schema: CompiledSchema) { self.schema = schema }
    }
}

/// Builds a validator's node table from a schema document whose patterns are compiled and `$ref`s resolved.
struct SchemaCompiler {
    let patterns: [String: SchemaPattern]
    let references: [String: JSONValue]
    private(set) var nodes: [CompiledSchema] = []
    /// The node of each `$ref` target, so a recursive reference points back instead of recursing forever.
    private var referenced: [String: Int] = [:]

    init(patterns: [String: SchemaPattern], references: [String: JSONValue]) {
        self.patterns = patterns
        self.references = references
    }

    /// Adds `schema` (and everything it reaches) to the table; returns its index.
    mutating func compile(_ schema: JSONValue) -> Int {
        let index = nodes.count
        switch schema {
        case .bool(false):
            nodes.append(CompiledSchema(form: .nothing))
            return index
        case .object: nodes.append(CompiledSchema(form: .keywords))
        default:
            nodes.append(CompiledSchema(form: .anything))
            return index
        }
        let s = schema.objectValue!
        var node = CompiledSchema(form: .keywords)
        if case .string(let ref)? = s["$ref"], let target = references[ref] {
            if let known = referenced[ref] {
                node.ref = (ref, known)
            } else {
                // `compile` puts the target's node at the next index: recorded first, a reference back to the same
                // target (recursion) finds it.
                referenced[ref] = nodes.count
                node.ref = (ref, compile(target))
            }
        }
        switch s["type"] {
        case .string(let t)?: node.types = [t]
        case .array(let ts)?: node.types = ts.compactMap(\.stringValue)
        default: break
        }
        if case .array(let options)? = s["enum"] { node.enumValues = options }
        node.const = s["const"]
        node.minLength = s["minLength"]?.numberValue?.intValue
        node.maxLength = s["maxLength"]?.numberValue?.intValue
        if case .string(let p)? = s["pattern"] { node.pattern = patterns[p] }
        if case .string("date-time")? = s["format"] { node.isDateTime = true }
        node.minimum = s["minimum"]?.numberValue
        node.maximum = s["maximum"]?.numberValue
        node.exclusiveMinimum = s["exclusiveMinimum"]?.numberValue
        node.exclusiveMaximum = s["exclusiveMaximum"]?.numberValue
        node.minItems = s["minItems"]?.numberValue?.intValue
        node.maxItems = s["maxItems"]?.numberValue?.intValue
        if let items = s["items"] { node.items = compile(items) }
        if case .array(let required)? = s["required"] { node.required = required.compactMap(\.stringValue) }
        node.minProperties = s["minProperties"]?.numberValue?.intValue
        node.maxProperties = s["maxProperties"]?.numberValue?.intValue
        for (name, propertySchema) in s["properties"]?.objectValue ?? [:] {
            node.properties[name] = compile(propertySchema)
        }
        if let additional = s["additionalProperties"] { node.additionalProperties = compile(additional) }
        if let names = s["propertyNames"] { node.propertyNames = compile(names) }
        if case .array(let subs)? = s["allOf"] { node.allOf = subs.map { compile($0) } }
        if case .array(let subs)? = s["anyOf"] { node.anyOf = subs.map { compile($0) } }
        if case .array(let subs)? = s["oneOf"] { node.oneOf = subs.map { compile($0) } }
        if let not = s["not"] { node.not = compile(not) }
        if let condition = s["if"] { node.if = compile(condition) }
        if let then = s["then"] { node.then = compile(then) }
        if let otherwise = s["else"] { node.else = compile(otherwise) }
        nodes[index] = node
        return index
    }
}

/// A compiled `pattern` keyword: matched by ``ASCIIPattern`` when it and the text allow, else by ICU.
struct SchemaPattern: Sendable {
    let source: String
    let regex: NSRegularExpression
    let ascii: ASCIIPattern?

    /// Longest text (UTF-8 bytes) handed to ICU, whose matcher backtracks; longer text does not match. The JSON
    /// parsers refuse longer strings anyway (``JSONLimits/maximumStringBytes``); this keeps the bound when a
    /// validator is given a value that was built rather than parsed.
    static let maximumICUTextBytes = JSONLimits.standard.maximumStringBytes

    func matches(_ text: String) -> Bool {
        if let ascii, let matched = ascii.matches(text) { return matched }
        guard text.utf8.count <= Self.maximumICUTextBytes else { return false }
        return regex.firstMatch(in: text, options: [], range: NSRange(text.startIndex..<text.endIndex, in: text)) != nil
    }
}
