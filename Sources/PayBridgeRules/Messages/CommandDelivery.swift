import AMQPValues
import PayBridgeContract

/// A command delivery as plain values: what ``DeliveryRules`` and ``CommandProcessor`` read from it. Unlike
/// `AMQPDelivery`, it is not tied to a connection, so tests build one directly.
///
/// Who sent it decides what its headers may do: a delivery that came through
/// ``Topology/internalExchange`` or ``Topology/retryReturnExchange`` is PayBridge's own, and its `x-paybridge-*`
/// headers (attempt, original routing key, notification, account, replayed, …) are honoured. Any other delivery is
/// a producer's: its `x-paybridge-*` headers are removed on arrival (``ignoredHeaders`` names them), so they are
/// neither read nor forwarded on a retry or dead letter, and its own routing key alone decides the command type.
package struct CommandDelivery: Equatable, Sendable {
    /// The message body, byte for byte.
    package let body: [UInt8]
    /// The AMQP basic properties: as sent for PayBridge's own messages; a producer's without PayBridge's headers.
    package let properties: AMQPProperties
    /// The exchange it was published to (`payments.commands` for a producer's command).
    package let exchange: String
    /// Whether PayBridge sent it to itself (``Topology/isInternalRoute(exchange:)``), so its `x-paybridge-*`
    /// headers count.
    package let isInternal: Bool
    /// The `x-paybridge-*` header names a producer's delivery carried, removed from ``properties`` (empty for
    /// PayBridge's own messages), for the log line that says they were ignored.
    package let ignoredHeaders: [String]
    /// The routing key of this delivery (for a retry, the retry queue's name: see ``headers``).
    package let routingKey: String
    /// `true` when the broker delivered it before (its create may have reached the provider).
    package let redelivered: Bool
    /// The delivery tag, for logs only.
    package let deliveryTag: UInt64
    /// PayBridge's headers, validated once: attempt, original routing key, or why they are unusable.
    package let headers: CommandHeaders

    /// - Parameters:
    ///   - exchange: where it was published; default ``Topology/commandsExchange`` (a producer's command).
    ///   - trustDefaultExchange: also honour PayBridge's headers on deliveries through the default exchange (`""`),
    ///     where PayBridge before `payments.internal` sent its own messages: only while upgrading
    ///     (`PAYBRIDGE_TRUST_DEFAULT_EXCHANGE`), so the notifications and put-backs older processes left in the
    ///     queues are still read as what they are. Default `false`.
    package init(body: [UInt8], properties: AMQPProperties = AMQPProperties(), routingKey: String, redelivered: Bool = false,
         deliveryTag: UInt64 = 0, exchange: String = Topology.commandsExchange, trustDefaultExchange: Bool = false) {
        self.body = body
        self.exchange = exchange
        isInternal = Topology.isInternalRoute(exchange: exchange) || (trustDefaultExchange && exchange.isEmpty)
        var properties = properties
        var ignored: [String] = []
        if !isInternal, let headers = properties.headers, headers.contains(where: { Topology.isPayBridgeHeader($0.key) }) {
            var kept = AMQPTable()
            for (key, value) in headers {
                if Topology.isPayBridgeHeader(key) { ignored.append(key) } else { kept[key] = value }
            }
            properties.headers = kept.isEmpty ? nil : kept
        }
        ignoredHeaders = ignored
        self.properties = properties
        self.routingKey = routingKey
        self.redelivered = redelivered
        self.deliveryTag = deliveryTag
        headers = CommandHeaders(properties: properties, deliveryRoutingKey: routingKey)
    }

    /// 1 for a first delivery; the broker-side attempt for retries (1 when the headers are unusable).
    package var attempt: Int { headers.attempt }

    /// The routing key the command was first published with.
    package var originalRoutingKey: String { headers.routingKey }
}

extension CommandDelivery {
    /// The properties for re-publishing this command unchanged (retry, dead letter, put back); see
    /// ``forwardedProperties(_:attempt:originalRoutingKey:)``.
    package func forwardedProperties(attempt: Int) -> AMQPProperties {
        Self.forwardedProperties(properties, attempt: attempt, originalRoutingKey: originalRoutingKey)
    }

    /// The properties of the copy that puts this command back at the tail of its queue (a pause). The copy is not
    /// marked redelivered, so a redelivered command (its create may have reached the provider) goes back as attempt
    /// 2 or later and still goes status-first. A command whose headers are unusable goes back with attempt 1 under
    /// its delivery's key.
    package func putBackProperties() -> AMQPProperties {
        forwardedProperties(attempt: redelivered ? max(attempt, 2) : attempt)
    }

    /// Received properties made fit to re-publish: persistent, with the attempt number and original routing key in
    /// PayBridge's headers.
    /// A delivery whose metadata could not be decoded exactly (``AMQPDecodingProblems``) is forwarded without the
    /// producer's headers (too deep) or without any of the producer's properties (not UTF-8): re-sent as read they
    /// would differ from what arrived or not fit AMQP's short strings. The received headers are bounded
    /// (``ForwardedHeaders``): those over the limits are dropped and named in ``Topology/Headers/droppedHeaders``.
    /// The body is always forwarded byte for byte.
    package static func forwardedProperties(_ received: AMQPProperties, attempt: Int, originalRoutingKey: String)
        -> AMQPProperties
    {
        var properties = received
        if received.decodingProblems.contains(.notUTF8) {
            properties = AMQPProperties()  // which property was repaired is not known: none is re-sent
        } else if received.decodingProblems.contains(.headersTooDeep) {
            properties.headers = nil  // the other properties were decoded exactly
        }
        let forwarded = ForwardedHeaders(properties.headers ?? AMQPTable())
        var headers = forwarded.kept
        if let record = forwarded.droppedRecord { headers[Topology.Headers.droppedHeaders] = .string(record) }
        headers[Topology.Headers.attempt] = .int32(Int32(clamping: attempt))
        headers[Topology.Headers.originalRoutingKey] = .string(originalRoutingKey)
        properties.headers = headers
        properties.persistent = true
        return properties
    }
}

extension CommandDelivery {
    /// `properties` of a re-publication the broker connection refused as impossible to encode
    /// (`AMQPError.Code.propertiesTooLarge`), without any of the producer's headers: only PayBridge's own (the
    /// dead-letter reason and the attempt among them) and, in ``Topology/Headers/droppedHeaders``, how many were
    /// dropped and why. Short-string properties of more than 255 bytes are left out too. Always encodable.
    package static func withoutProducerHeaders(_ properties: AMQPProperties, because reason: String) -> AMQPProperties {
        let limit = AMQPProperties.maximumShortStringBytes
        func short(_ text: String?) -> String? { text.flatMap { $0.utf8.count <= limit ? $0 : nil } }
        var stripped = properties
        for keyPath in [\AMQPProperties.contentType, \.contentEncoding, \.correlationId, \.replyTo, \.expiration,
                        \.messageId, \.type, \.userId, \.appId] {
            stripped[keyPath: keyPath] = short(stripped[keyPath: keyPath])
        }
        let all = properties.headers ?? AMQPTable()
        func keeps(_ key: String, _ value: AMQPFieldValue) -> Bool {
            // A header PayBridge keeps is as small as PayBridge writes it, unless a producer set it: bounded too.
            Self.keptWithoutProducerHeaders.contains(key)
                && value.encodedByteCount <= Topology.Headers.maximumDetailLength + 5
        }
        let kept = all.filter { keeps($0.key, $0.value) }
        let dropped = all.filter { !keeps($0.key, $0.value) }
        var headers = AMQPTable(kept.map { ($0.key, $0.value) })
        headers[Topology.Headers.droppedHeaders] = .string(ForwardedHeaders.record(
            count: dropped.count,
            bytes: dropped.reduce(0) { $0 + AMQPTable.encodedByteCount(key: $1.key, value: $1.value) },
            keys: dropped.map(\.key), why: reason))
        stripped.headers = headers
        return stripped
    }

    /// The headers a re-publication without the producer's headers keeps: those PayBridge writes on it (attempt,
    /// routing key, dead-letter reason) or reads back (replayed, account, trace context).
    package static let keptWithoutProducerHeaders: Set<String> = [
        Topology.Headers.attempt, Topology.Headers.originalRoutingKey, Topology.Headers.replayed,
        Topology.Headers.deadLetterReason, Topology.Headers.deadLetterCode, Topology.Headers.deadLetterDetail,
        Topology.Headers.deadLetteredAt, Topology.Headers.sourceQueue, Topology.Headers.failedEventId,
        Topology.Headers.account, Topology.Headers.notification, Topology.Headers.traceparent,
        Topology.Headers.tracestate,
    ]
}
