/// An error of the operator tools (topology, send, dead letters): a message that is safe to print as is (it never
/// contains a password) and says what to do, plus the underlying error for debugging.
public struct PayBridgeToolError: Error, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// What went wrong, for the operator.
    public var message: String
    /// The error that caused it, if any.
    public var underlying: (any Error)?

    /// - Parameters:
    ///   - message: printable text; no secrets.
    ///   - underlying: the cause.
    public init(_ message: String, underlying: (any Error)? = nil) {
        self.message = message
        self.underlying = underlying
    }

    /// The message alone: what an operator sees.
    public var description: String { message }

    /// The message and the underlying error, for logs and `--verbose`.
    public var debugDescription: String {
        guard let underlying else { return message }
        return "\(message) [underlying: \(String(reflecting: underlying))]"
    }
}
