/// One reason an instance does not satisfy a schema. Safe to print: it names paths and rules, and quotes at most
/// short scalar values from the instance.
public struct SchemaValidationError: Sendable, Equatable, CustomStringConvertible {
    /// JSON Pointer (RFC 6901) into the instance, `""` for the whole document, e.g. `/data/amount`.
    public let instancePath: String
    /// JSON Pointer into the schema of the keyword that failed, e.g. `#/properties/data/properties/amount/pattern`.
    public let schemaPath: String
    /// Human-readable reason, e.g. `must match pattern ^(0|[1-9][0-9]*)(\.[0-9]{1,2})?$`.
    public let message: String

    public var description: String { "\(instancePath.isEmpty ? "/" : instancePath): \(message)" }
}
