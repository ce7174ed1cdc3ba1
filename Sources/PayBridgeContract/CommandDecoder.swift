import PaymentVocabulary
import StrictJSON

/// Turns message bodies into ``PaymentCommand``s or ``CommandRejection``s.
///
/// Checks, in order: JSON (strict, numbers kept as text) → CloudEvents 1.0 envelope → known `type` → routing key
/// agrees with the type (when given) → the type's JSON Schema (envelope and `data`). Never throws anything else
/// and never crashes on input. Stateless and `Sendable`: share one.
public struct CommandDecoder: Sendable {
    /// The default of ``maximumBytes``: 256 KiB, far above any real command (a few hundred bytes).
    public static let defaultMaximumBytes = 256 * 1024

    /// Bodies larger than this are rejected (``CommandRejection/Reason/tooLarge(bytes:limit:)``) before any
    /// parsing.
    public let maximumBytes: Int

    /// Creates a decoder (the schemas are embedded; nothing is read from disk).
    public init(maximumBytes: Int = CommandDecoder.defaultMaximumBytes) {
        self.maximumBytes = maximumBytes
    }

    /// The provider and operation a `<provider>.<operation>` routing key names, as far as it names them.
    static func providerAndOperation(routingKey: String?) -> (Provider?, String?) {
        let keyParts = routingKey.map { $0.split(separator: ".", omittingEmptySubsequences: false).map(String.init) }
        return (keyParts.flatMap { $0.first }.flatMap(Provider.init(rawValue:)),
                keyParts.flatMap { $0.count == 2 ? $0[1] : nil })
    }

    /// Decodes a command.
    /// - Parameters:
    ///   - body: the message body.
    ///   - routingKey: the routing key it was published with: the ``Topology/Headers/originalRoutingKey`` header
    ///     when present (retries, replays), else the delivery's routing key; `nil` skips the check.
    /// - Returns: the command or why it was rejected.
    public func decode(_ body: some Collection<UInt8>, routingKey: String? = nil) -> Result<
        PaymentCommand, CommandRejection
    > {
        let (keyProvider, keyOperation) = Self.providerAndOperation(routingKey: routingKey)
        func reject(
            _ reason: CommandRejection.Reason, id: String? = nil, provider: Provider? = nil, operation: String? = nil,
            paymentId: String? = nil, bytes: [UInt8]
        ) -> Result<PaymentCommand, CommandRejection> {
            .failure(
                CommandRejection(
                    reason: reason, commandId: id, provider: provider ?? keyProvider,
                    operation: operation ?? keyOperation, paymentId: paymentId, bodySHA256: EventID.sha256Hex(bytes)))
        }
        let envelope: Envelope
        switch readEnvelope(body) {
        case .success(let read): envelope = read
        case .failure(let unread): return reject(unread.reason, id: unread.id, bytes: unread.bytes)
        }
        let (bytes, json, event) = (envelope.bytes, envelope.json, envelope.event)
        guard let kind = PaymentCommandKind(type: event.type) else {
            // Best effort: `paybridge.<provider>.<operation>.vN` names the provider and operation.
            let parts = event.type.split(separator: ".").map(String.init)
            let typeProvider = parts.count == 4 ? Provider(rawValue: parts[1]) : nil
            return reject(
                .unknownType(event.type), id: event.id, provider: typeProvider,
                operation: parts.count == 4 ? parts[2] : nil, bytes: bytes)
        }
        let paymentId = event.data?[kind.provider == .amanpay ? "paymentId" : "merchantPaymentId"]?.stringValue
        if let routingKey, routingKey != kind.routingKey {
            return reject(
                .routingKeyMismatch(type: event.type, routingKey: routingKey), id: event.id, provider: kind.provider,
                operation: kind.operation, paymentId: paymentId, bytes: bytes)
        }
        guard let validator = ContractSchemas.validator(forType: kind.type) else {
            preconditionFailure("no embedded schema for \(kind.type)")  // ContractTests guarantee one per kind.
        }
        let violations = validator.validate(json)
        guard violations.isEmpty, let time = event.time, let data = event.data else {
            return reject(
                .schemaViolation(violations), id: event.id, provider: kind.provider, operation: kind.operation,
                paymentId: paymentId, bytes: bytes)
        }
        return .success(
            PaymentCommand(id: event.id, kind: kind, source: event.source, time: time, data: data, event: event))
    }

    /// A body within the size limit, parsed, with its CloudEvents envelope.
    struct Envelope {
        let bytes: [UInt8]
        let json: JSONValue
        let event: CloudEvent
    }

    /// Why a body has no usable envelope, with its id when one could be read.
    struct Unread: Error {
        let reason: CommandRejection.Reason
        let id: String?
        let bytes: [UInt8]
    }

    /// The first steps of every message PayBridge reads from a producer: the size limit (before any parsing),
    /// strict JSON, the CloudEvents 1.0 envelope.
    func readEnvelope(_ body: some Collection<UInt8>) -> Result<Envelope, Unread> {
        guard body.count <= maximumBytes else {
            return .failure(Unread(reason: .tooLarge(bytes: body.count, limit: maximumBytes), id: nil, bytes: Array(body)))
        }
        let bytes = Array(body)
        let json: JSONValue
        do {
            json = try JSONValue.parse(bytes)
        } catch {
            return .failure(Unread(reason: .badJSON(error), id: nil, bytes: bytes))
        }
        let readableId = json["id"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
        do {
            return .success(Envelope(bytes: bytes, json: json, event: try CloudEvent(json: json)))
        } catch {
            return .failure(Unread(reason: .notACloudEvent(error.reason), id: readableId, bytes: bytes))
        }
    }
}
