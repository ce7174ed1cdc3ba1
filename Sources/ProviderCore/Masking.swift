/// Helpers that keep customer identifiers out of logs.
public enum Masking {
    /// Masks an account, wallet or phone number, keeping only its last `visible` characters:
    /// `01712345678` → `*******5678`. Values of `visible` characters or fewer are masked entirely.
    public static func accountNumber(_ value: String, visible: Int = 4) -> String {
        guard value.count > visible else { return String(repeating: "*", count: value.count) }
        return String(repeating: "*", count: value.count - visible) + value.suffix(visible)
    }
}

/// A secret configuration value (API secret, private key PEM). Its descriptions never show the value,
/// so it can sit in a configuration struct that gets logged or printed.
public struct Secret: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible,
    ExpressibleByStringLiteral
{
    /// The secret itself; read only where it is used (signing).
    public let value: String

    public init(_ value: String) { self.value = value }
    public init(stringLiteral value: String) { self.value = value }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "Secret(<redacted>)" }
}

extension Secret: CustomReflectable {
    /// Hides the value from `dump` and other reflection.
    public var customMirror: Mirror { Mirror(self, children: []) }
}
