/// A validated payment command.
public struct PaymentCommand: Sendable, Equatable {
    /// The command id (CloudEvents `id`): the idempotency key, and the `correlation_id` of its outcome events.
    public let id: String
    /// Which of the eight commands it is.
    public let kind: PaymentCommandKind
    /// CloudEvents `source`.
    public let source: String
    /// CloudEvents `time` (RFC 3339 text as sent).
    public let time: String
    /// The `data` object, valid against the kind's schema; amounts are decimal strings.
    public let data: JSONValue
    /// The whole envelope (extension attributes such as `traceparent` included).
    public let event: CloudEvent

    /// The provider.
    public var provider: Provider { kind.provider }
    /// The operation, e.g. `pay_in`.
    public var operation: String { kind.operation }
    /// The CloudEvents type.
    public var type: String { kind.type }
    /// The merchant's payment id when the command carries one (`paymentId` for Amanpay, `merchantPaymentId` for
    /// FirstPay; for FirstPay sms and status the optional `merchantPaymentId`).
    public var paymentId: String? { data[provider == .amanpay ? "paymentId" : "merchantPaymentId"]?.stringValue }
}

/// Why a message is not an acceptable command. Safe to print and to put in a `command.failed` event and the
/// dead-letter headers: it never quotes the message body beyond short values.
public struct CommandRejection: Error, Sendable, Equatable, CustomStringConvertible {
    /// The reasons, from the outermost check to the innermost.
    public enum Reason: Sendable, Equatable {
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

    static func clip(_ s: String) -> String { s.count <= 100 ? s : String(s.prefix(100)) + "…" }
}

/// Turns message bodies into ``PaymentCommand``s or ``CommandRejection``s.
///
/// Checks, in order: JSON (strict, numbers kept as text) → CloudEvents 1.0 envelope → known `type` → routing key
/// agrees with the type (when given) → the type's JSON Schema (envelope and `data`). Never throws anything else
/// and never crashes on input. Stateless and `Sendable`: share one.
public struct CommandDecoder: Sendable {
    /// Creates a decoder (the schemas are embedded; nothing is read from disk).
    public init() {}

    /// Decodes a command.
    /// - Parameters:
    ///   - body: the message body.
    ///   - routingKey: the routing key it was published with: the ``Topology/Headers/originalRoutingKey`` header
    ///     when present (retries, replays), else the delivery's routing key; `nil` skips the check.
    /// - Returns: the command or why it was rejected.
    public func decode(_ body: some Collection<UInt8>, routingKey: String? = nil) -> Result<
        PaymentCommand, CommandRejection
    > {
        let bytes = Array(body)
        let keyParts = routingKey.map { $0.split(separator: ".", omittingEmptySubsequences: false).map(String.init) }
        let keyProvider = keyParts.flatMap { $0.first }.flatMap(Provider.init(rawValue:))
        let keyOperation = keyParts.flatMap { $0.count == 2 ? $0[1] : nil }

        func reject(
            _ reason: CommandRejection.Reason, id: String? = nil, provider: Provider? = nil, operation: String? = nil,
            paymentId: String? = nil
        ) -> Result<PaymentCommand, CommandRejection> {
            .failure(
                CommandRejection(
                    reason: reason, commandId: id, provider: provider ?? keyProvider,
                    operation: operation ?? keyOperation, paymentId: paymentId, bodySHA256: EventID.sha256Hex(bytes)))
        }

        let json: JSONValue
        do {
            json = try JSONValue.parse(bytes)
        } catch {
            return reject(.badJSON(error))
        }
        let readableId = json["id"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
        let event: CloudEvent
        do {
            event = try CloudEvent(json: json)
        } catch {
            return reject(.notACloudEvent(error.reason), id: readableId)
        }
        guard let kind = PaymentCommandKind(type: event.type) else {
            // Best effort: `paybridge.<provider>.<operation>.vN` names the provider and operation.
            let parts = event.type.split(separator: ".").map(String.init)
            let typeProvider = parts.count == 4 ? Provider(rawValue: parts[1]) : nil
            return reject(
                .unknownType(event.type), id: event.id, provider: typeProvider,
                operation: parts.count == 4 ? parts[2] : nil)
        }
        let paymentId = event.data?[kind.provider == .amanpay ? "paymentId" : "merchantPaymentId"]?.stringValue
        if let routingKey, routingKey != kind.routingKey {
            return reject(
                .routingKeyMismatch(type: event.type, routingKey: routingKey), id: event.id, provider: kind.provider,
                operation: kind.operation, paymentId: paymentId)
        }
        guard let validator = ContractSchemas.validator(forType: kind.type) else {
            preconditionFailure("no embedded schema for \(kind.type)")  // ContractTests guarantee one per kind.
        }
        let violations = validator.validate(json)
        guard violations.isEmpty, let time = event.time, let data = event.data else {
            return reject(
                .schemaViolation(violations), id: event.id, provider: kind.provider, operation: kind.operation,
                paymentId: paymentId)
        }
        return .success(
            PaymentCommand(id: event.id, kind: kind, source: event.source, time: time, data: data, event: event))
    }
}
