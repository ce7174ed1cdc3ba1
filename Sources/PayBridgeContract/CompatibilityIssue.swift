/// One way a current schema accepts less than its baseline.
public struct CompatibilityIssue: Sendable, Equatable, CustomStringConvertible {
    /// JSON Pointer into the baseline schema where the narrowing is, e.g. `#/properties/data/properties/amount`.
    public let path: String
    /// What narrowed, e.g. `property 'amount' was removed`.
    public let message: String

    public var description: String { "\(path): \(message)" }
}
