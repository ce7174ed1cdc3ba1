/// A schema the validator cannot use (bad `$ref`, invalid `pattern`).
public struct SchemaError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong.
    public let reason: String
    public var description: String { "unusable JSON Schema: \(reason)" }
}
