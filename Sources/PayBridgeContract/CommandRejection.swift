import PaymentVocabulary
import StrictJSON

/// Why a message is not an acceptable command. Safe to print and to put in a `command.failed` event and the
/// dead-letter headers: it never quotes the message body beyond short values.
public struct CommandRejection: Error, Sendable, Equatable, CustomStringConvertible {
    /// The reasons, from the outermost check to the innermost.
    public enum Reason: Sendable, Equatable {
        /// The body is larger than the decoder's ``CommandDecoder/maximumBytes``; it was not parsed.
        case tooLarge(bytes: Int, limit: Int)
        /// The message's AMQP metadata (PayBridge's headers) is unusable; the body was not parsed.
        case unusableMetadata(code: String, message: String)
        /// The body is not JSON.
        case badJSON(JSONParseError)
        /// The body is JSON but not a CloudEvents 1.0 structured event.
        case notACloudEvent(String)
        /// The `type` is not one of the eight command types.
        case unknownType(String)
        /// The routing key (original, see ``Topology/Headers/originalRoutingKey``) disagrees with the `type`.
        case routingKeyMismatch(type: String, routingKey: String)
        /// The envelope or `data` violates the type's JSON Schema; all violations, in schema order.
        case schemaViolation([SchemaValidationError])
    }

    /// What is wrong.
    public let reason: Reason
    /// The command id when it could be read.
    public let commandId: String?
    /// The provider when the type or the routing key names one.
    public let provider: Provider?
    /// The operation when the type or the routing key names one (possibly one PayBridge does not know).
    public let operation: String?
    /// The merchant's payment id when it could be read.
    public let paymentId: String?
    /// Lower-case hex SHA-256 of the body (identifies the message when it has no readable id).
    public let bodySHA256: String

    /// `data.error.code` for the `command.failed` event.
    public var code: String {
        switch reason {
        case .tooLarge: "COMMAND_TOO_LARGE"
        case .unusableMetadata(let code, _): code
        case .badJSON: "BAD_JSON"
        case .notACloudEvent: "NOT_A_CLOUDEVENT"
        case .unknownType: "UNKNOWN_TYPE"
        case .routingKeyMismatch: "ROUTING_KEY_MISMATCH"
        case .schemaViolation: "SCHEMA_VIOLATION"
        }
    }

    /// Always ``ErrorClass/invalidCommand``.
    public var errorClass: ErrorClass { .invalidCommand }

    /// How many schema violations ``message`` lists before summarising the rest.
    public static let listedViolations = 5

    /// Human-readable reason, e.g. `/data/amount: must be string, not number`.
    public var message: String {
        switch reason {
        case .tooLarge(let bytes, let limit):
            return "the command is \(bytes) bytes; the limit is \(limit) (PAYBRIDGE_MAX_COMMAND_BYTES)"
        case .unusableMetadata(_, let message): return message
        case .badJSON(let e): return e.description
        case .notACloudEvent(let r): return "not a CloudEvents 1.0 structured JSON event: \(r)"
        case .unknownType(let t): return "unknown command type '\(Self.clip(t))'"
        case .routingKeyMismatch(let t, let k):
            return "routing key '\(Self.clip(k))' does not match type '\(Self.clip(t))'"
        case .schemaViolation(let errors):
            let listed = errors.prefix(Self.listedViolations).map(\.description).joined(separator: "; ")
            let more = errors.count - Self.listedViolations
            return more > 0 ? "\(listed); and \(more) more" : listed
        }
    }

    public var description: String { "\(code): \(message)" }

    /// A message rejected for its metadata (e.g. `x-paybridge-attempt` out of range) before its body is parsed.
    /// - Parameters:
    ///   - code: `data.error.code` for the `command.failed` event, e.g. `INVALID_HEADER`.
    ///   - message: what is wrong.
    ///   - body: the message body (identified by its SHA-256).
    ///   - routingKey: the routing key it was published with (names the provider and operation when it can).
    public static func unusableMetadata(code: String, message: String, body: some Collection<UInt8>,
                                        routingKey: String?) -> CommandRejection {
        let (provider, operation) = CommandDecoder.providerAndOperation(routingKey: routingKey)
        return CommandRejection(reason: .unusableMetadata(code: code, message: message), commandId: nil,
                                provider: provider, operation: operation, paymentId: nil,
                                bodySHA256: EventID.sha256Hex(Array(body)))
    }

    static func clip(_ s: String) -> String { s.count <= 100 ? s : String(s.prefix(100)) + "…" }
}
