import StrictJSON

/// The contract's JSON Schemas, compiled into the module (generated `EmbeddedSchemas.swift`), and a validator per
/// message type built once on first use.
public enum ContractSchemas {
    /// Paths of the embedded schema files relative to `schemas/`, e.g. `commands/amanpay.purchase.v1.schema.json`.
    public static var paths: [String] { EmbeddedSchemas.files.map(\.path) }

    /// The exact text of an embedded schema file.
    /// - Parameter path: a path from ``paths``.
    public static func text(atPath path: String) -> String? {
        EmbeddedSchemas.files.first { $0.path == path }?.text
    }

    /// The message types that have a schema (the `const` of each schema's `properties.type`).
    public static var types: [String] { registry.keys.sorted() }

    /// The parsed schema for a CloudEvents type.
    /// - Parameter type: e.g. `paybridge.payment.response.v1`.
    public static func schema(forType type: String) -> JSONValue? { registry[type]?.schema }

    /// The validator for a CloudEvents type (command or event), or `nil` for unknown types.
    /// - Parameter type: e.g. `paybridge.amanpay.purchase.v1`.
    public static func validator(forType type: String) -> JSONSchemaValidator? { registry[type] }

    /// Built once. The embedded schemas are checked by ContractTests (they parse, compile, and their examples
    /// validate), so a failure here is a build defect, not a runtime condition.
    private static let registry: [String: JSONSchemaValidator] = {
        var result: [String: JSONSchemaValidator] = [:]
        for file in EmbeddedSchemas.files {
            do {
                let schema = try JSONValue.parse(file.text)
                guard case .string(let type)? = schema["properties"]?["type"]?["const"] else {
                    preconditionFailure("embedded schema \(file.path) has no properties.type.const")
                }
                result[type] = try JSONSchemaValidator(schema: schema)
            } catch {
                preconditionFailure("embedded schema \(file.path) is unusable: \(error)")
            }
        }
        return result
    }()
}
