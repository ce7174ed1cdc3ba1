public import AMQP
import Foundation
import PayBridgeContract
import PayBridgeTracing
public import StrictJSON

/// A message in the dead-letter queue `payments.dead`, with the reason PayBridge (or the broker) gave.
///
/// Two kinds arrive there: commands the worker gave up on, which carry PayBridge's `x-paybridge-dead-letter-*`
/// headers (``Topology/Headers``), and commands the broker dead-lettered itself (delivery limit reached after crash
/// loops, or rejected without requeue), which carry the broker's `x-death` header instead. Both are shown.
public struct DeadLetter: Sendable {
    /// One entry of the broker's `x-death` header: a hop through a dead-lettering queue.
    public struct Death: Sendable, Hashable {
        /// The queue the message was dead-lettered from.
        public var queue: String?
        /// `rejected`, `expired`, `maxlen` or `delivery_limit`.
        public var reason: String?
        /// How often it was dead-lettered from this queue for this reason.
        public var count: Int64?
        /// The exchange it had been published to.
        public var exchange: String?
        /// The routing keys it had been published with.
        public var routingKeys: [String]
        /// When (seconds since 1970).
        public var time: UInt64?
    }

    /// AMQP `message_id` (the command id, when the producer followed the contract).
    public var messageId: String?
    /// The CloudEvent `id` of the body, when the body is a readable CloudEvent.
    public var commandId: String?
    /// The CloudEvent `type` of the body (else the AMQP `type` property).
    public var type: String?
    /// The routing key of the dead-lettered message as delivered from `payments.dead`.
    public var routingKey: String
    /// `x-paybridge-dead-letter-reason`: an ``ErrorClass`` raw value.
    public var reason: String?
    /// `x-paybridge-dead-letter-code`.
    public var code: String?
    /// `x-paybridge-dead-letter-detail`.
    public var detail: String?
    /// `x-paybridge-attempt` (absent = 1).
    public var attempt: Int64?
    /// `x-paybridge-original-routing-key`.
    public var originalRoutingKey: String?
    /// `x-paybridge-dead-lettered-at`.
    public var deadLetteredAt: String?
    /// `x-paybridge-source-queue`.
    public var sourceQueue: String?
    /// `x-paybridge-failed-event-id`.
    public var failedEventId: String?
    /// The trace id (32 hex digits) of its `traceparent` (AMQP header, else the CloudEvents attribute): the trace of
    /// the command's processing in a tracing backend and the logs (`trace_id`).
    public var traceId: String?
    /// The broker's `x-death` entries, most recent first.
    public var deaths: [Death]
    /// All AMQP properties, headers included.
    public var properties: AMQPProperties
    /// The body, unchanged.
    public var body: [UInt8]

    /// Reads a delivery from the dead-letter queue.
    /// - Parameters:
    ///   - routingKey: its routing key.
    ///   - properties: its properties.
    ///   - body: its body.
    public init(routingKey: String, properties: AMQPProperties, body: [UInt8]) {
        self.routingKey = routingKey
        self.properties = properties
        self.body = body
        let event = try? CloudEvent.parse(body)
        let headers = properties.headers ?? [:]
        messageId = properties.messageId
        commandId = event?.id
        type = event?.type ?? properties.type
        reason = headers[Topology.Headers.deadLetterReason]?.stringValue
        code = headers[Topology.Headers.deadLetterCode]?.stringValue
        detail = headers[Topology.Headers.deadLetterDetail]?.stringValue
        attempt = headers[Topology.Headers.attempt]?.intValue
        originalRoutingKey = headers[Topology.Headers.originalRoutingKey]?.stringValue
        deadLetteredAt = headers[Topology.Headers.deadLetteredAt]?.stringValue
        sourceQueue = headers[Topology.Headers.sourceQueue]?.stringValue
        failedEventId = headers[Topology.Headers.failedEventId]?.stringValue
        deaths = Self.deaths(headers["x-death"])
        traceId = (headers["traceparent"]?.stringValue).flatMap { TraceContext(traceparent: $0)?.traceID }
            ?? (event?.extensions["traceparent"]?.stringValue).flatMap { TraceContext(traceparent: $0)?.traceID }
    }

    /// The id to show and select by: ``messageId``, else ``commandId``.
    public var id: String? { messageId ?? commandId }

    /// Whether `id` names this dead letter (its `message_id` or its CloudEvent id).
    public func matches(id: String) -> Bool { messageId == id || commandId == id }

    /// The routing key a replay publishes it with on `payments.commands`: the original key PayBridge recorded,
    /// else the first routing key in `x-death` or the delivery's own key that is a PayBridge command key, else
    /// the key derived from the CloudEvent `type`. `nil` when none is known.
    public var replayRoutingKey: String? {
        if let originalRoutingKey, !originalRoutingKey.isEmpty { return originalRoutingKey }
        let candidates = deaths.flatMap(\.routingKeys) + [routingKey]
        if let key = candidates.first(where: { PaymentCommandKind(routingKey: $0) != nil }) { return key }
        return type.flatMap { PaymentCommandKind(type: $0) }?.routingKey
    }

    /// The headers of a replayed copy: the producer's headers, without the attempt counter, PayBridge's dead-letter
    /// headers and the broker's dead-lettering headers (so the copy gets a full set of attempts), plus
    /// ``Topology/Headers/replayed`` `true`, so a replayed create reads the payment's status before it creates: its
    /// earlier run may have reached the provider (its outcome was `unknown`).
    public var replayHeaders: AMQPTable {
        let dropped: Set<String> = [
            Topology.Headers.attempt, Topology.Headers.originalRoutingKey, Topology.Headers.deadLetterReason,
            Topology.Headers.deadLetterCode, Topology.Headers.deadLetterDetail, Topology.Headers.deadLetteredAt,
            Topology.Headers.sourceQueue, Topology.Headers.failedEventId, "x-death", "x-delivery-count",
        ]
        var table = AMQPTable()
        for (key, value) in properties.headers ?? [:]
        where !dropped.contains(key) && !key.hasPrefix("x-first-death-") && !key.hasPrefix("x-last-death-") {
            table[key] = value
        }
        table[Topology.Headers.replayed] = .bool(true)
        return table
    }

    static func deaths(_ value: AMQPFieldValue?) -> [Death] {
        guard case .array(let entries)? = value else { return [] }
        return entries.compactMap { entry in
            guard case .table(let table) = entry else { return nil }
            var keys: [String] = []
            if case .array(let values)? = table["routing-keys"] { keys = values.compactMap(\.stringValue) }
            var time: UInt64?
            if case .timestamp(let t)? = table["time"] {
                time = t
            } else {
                time = table["time"]?.intValue.map { UInt64(clamping: $0) }
            }
            return Death(queue: table["queue"]?.stringValue, reason: table["reason"]?.stringValue,
                         count: table["count"]?.intValue, exchange: table["exchange"]?.stringValue,
                         routingKeys: keys, time: time)
        }
    }
}

extension DeadLetter {
    /// A JSON description (for `paybridge dead-letters list --json`): the fields above, `xDeath`, and `body` as
    /// JSON when it parses, else as text.
    public var jsonValue: JSONValue {
        func string(_ s: String?) -> JSONValue { JSONValue.stringOrNull(s) }
        func int(_ i: Int64?) -> JSONValue { i.map { .number(JSONNumber(Int($0))) } ?? .null }
        let deathValues: [JSONValue] = deaths.map { death in
            .object([
                "queue": string(death.queue), "reason": string(death.reason), "count": int(death.count),
                "exchange": string(death.exchange), "routingKeys": .array(death.routingKeys.map { .string($0) }),
                "time": death.time.map { .string(RFC3339.string(secondsSince1970: $0)) } ?? .null,
            ])
        }
        let bodyValue = (try? JSONValue.parse(body)) ?? .string(String(decoding: body, as: UTF8.self))
        return .object([
            "id": string(id), "messageId": string(messageId), "commandId": string(commandId), "type": string(type),
            "routingKey": .string(routingKey), "reason": string(reason), "code": string(code),
            "detail": string(detail), "attempt": int(attempt), "originalRoutingKey": string(originalRoutingKey),
            "deadLetteredAt": string(deadLetteredAt), "sourceQueue": string(sourceQueue),
            "failedEventId": string(failedEventId), "replayRoutingKey": string(replayRoutingKey),
            "traceId": string(traceId),
            "xDeath": .array(deathValues), "body": bodyValue,
        ])
    }
}
