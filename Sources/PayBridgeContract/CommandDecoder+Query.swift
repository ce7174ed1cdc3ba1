import PaymentVocabulary
import StrictJSON

/// Why a ``PaymentMethodsQuery`` cannot be answered with methods, and where to say so.
public struct QueryRejection: Error, Sendable, Equatable {
    /// Why (its `code`, `message` and class `invalid_command` go into the error reply or the dead letter).
    public let rejection: CommandRejection
    /// Where the error reply goes; `nil` when the query names no usable `reply_to` (it is dead-lettered instead).
    public let reply: PaymentMethodsQuery.ReplyAddress?
    /// The query's `data.merchantPaymentId`, when readable (the reply's `subject`).
    public let merchantPaymentId: String?
    /// The query's `data.account` when readable and well-formed, else `default`.
    public let account: MerchantAccount

    public init(rejection: CommandRejection, reply: PaymentMethodsQuery.ReplyAddress?, merchantPaymentId: String?,
                account: MerchantAccount) {
        self.rejection = rejection
        self.reply = reply
        self.merchantPaymentId = merchantPaymentId
        self.account = account
    }
}

extension CommandDecoder {
    /// Decodes a payment-methods query: the steps of ``decode(_:routingKey:)`` (size, JSON, envelope, type, the
    /// query's schema), and a `reply_to` that is a direct reply-to name.
    /// - Parameters:
    ///   - routingKey: the routing key it was published with (it chose this decoder).
    ///   - replyTo: the AMQP `reply_to` property.
    ///   - correlationId: the AMQP `correlation_id` property.
    public func decodeQuery(
        _ body: some Collection<UInt8>, routingKey: String?, replyTo: String?, correlationId: String?
    ) -> Result<PaymentMethodsQuery, QueryRejection> {
        let envelope: Envelope
        switch readEnvelope(body) {
        case .success(let read):
            envelope = read
        case .failure(let unread):
            let address = PaymentMethodsQuery.ReplyAddress.of(replyTo: replyTo, correlationId: correlationId,
                                                              queryId: unread.id)
            return .failure(QueryRejection(
                rejection: rejection(unread.reason, id: unread.id, bytes: unread.bytes),
                reply: address, merchantPaymentId: nil, account: .default))
        }
        let event = envelope.event
        let data = event.data
        let paymentId = data?["merchantPaymentId"]?.stringValue
        let account = data?["account"]?.stringValue.flatMap { MerchantAccount($0) } ?? .default
        let address = PaymentMethodsQuery.ReplyAddress.of(replyTo: replyTo, correlationId: correlationId,
                                                          queryId: event.id)
        func reject(_ reason: CommandRejection.Reason) -> Result<PaymentMethodsQuery, QueryRejection> {
            .failure(QueryRejection(rejection: rejection(reason, id: event.id, paymentId: paymentId,
                                                         bytes: envelope.bytes),
                                    reply: address, merchantPaymentId: paymentId, account: account))
        }
        guard event.type == PaymentMethodsQuery.type else {
            return reject(routingKey == PaymentMethodsQuery.routingKey
                ? .routingKeyMismatch(type: event.type, routingKey: PaymentMethodsQuery.routingKey)
                : .unknownType(event.type))
        }
        guard let validator = ContractSchemas.validator(forType: PaymentMethodsQuery.type) else {
            preconditionFailure("no embedded schema for \(PaymentMethodsQuery.type)")  // ContractTests guarantee it.
        }
        let violations = validator.validate(envelope.json)
        guard violations.isEmpty else { return reject(.schemaViolation(violations)) }
        guard let address else {
            return reject(.unusableMetadata(
                code: "NO_REPLY_TO",
                message: "a payment-methods query needs reply_to = RabbitMQ's direct reply-to (amq.rabbitmq.reply-to)"))
        }
        guard let data, let query = PaymentMethodsQuery(event: event, data: data, reply: address) else {
            // Unreachable while the schema requires and constrains these fields; refused, never trapped, if not.
            return reject(.unusableMetadata(code: "SCHEMA_VIOLATION", message: "data: unreadable query fields"))
        }
        return .success(query)
    }

    private func rejection(_ reason: CommandRejection.Reason, id: String?, paymentId: String? = nil,
                           bytes: [UInt8]) -> CommandRejection {
        CommandRejection(reason: reason, commandId: id, provider: .firstpay, operation: "payment_methods",
                         paymentId: paymentId, bodySHA256: EventID.sha256Hex(bytes))
    }
}
