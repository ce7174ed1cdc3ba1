import StrictJSON

/// What went wrong, as a provider client reports it and as an outcome event carries it in `data.error`:
/// `code`, `message`, `class`.
public struct OutcomeError: Sendable, Hashable {
    /// Provider error code or PayBridge code (`SCHEMA_VIOLATION`, `TIMEOUT`, …).
    public var code: String
    /// Human-readable text; never contains secrets.
    public var message: String
    /// The class (`class` in JSON).
    public var errorClass: ErrorClass

    /// Creates an error.
    /// - Parameters:
    ///   - code: the code.
    ///   - message: the text.
    ///   - errorClass: the class.
    public init(code: String, message: String, errorClass: ErrorClass) {
        self.code = code
        self.message = message
        self.errorClass = errorClass
    }

    /// The `data.error` object.
    public var jsonValue: JSONValue {
        ["code": .string(code), "message": .string(message), "class": .string(errorClass.rawValue)]
    }
}
