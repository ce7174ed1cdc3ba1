@testable import PayBridgeContract

/// One way a current schema accepts less than its baseline.
struct CompatibilityIssue: Sendable, Equatable, CustomStringConvertible {
    /// JSON Pointer into the baseline schema where the narrowing is, e.g. `#/properties/data/properties/amount`.
    let path: String
    /// What narrowed, e.g. `property 'amount' was removed`.
    let message: String

    var description: String { "\(path): \(message)" }
}
