import AMQPValues
import Foundation
import PayBridgeContract
import PaymentVocabulary

/// A command on its way to the dead-letter exchange: its body, unchanged, under its original routing key, with the
/// reason in PayBridge's headers. Never requeued.
package struct CommandDeadLetter: Equatable, Sendable {
    /// ``Topology/deadLetterExchange``.
    package var exchange: String { Topology.deadLetterExchange }
    /// The routing key the command was first published with.
    package var routingKey: String
    package var reason: ErrorClass
    package var code: String
    /// What went wrong, clipped to ``Topology/Headers/maximumDetailLength`` UTF-8 bytes.
    package var detail: String
    /// The id of the `command.failed` event published for it (`nil` for a callback notification: none is).
    package var failedEventId: String?
    package var body: [UInt8]
    /// The forwarded properties plus the dead-letter headers.
    package var properties: AMQPProperties

    package init(routingKey: String, reason: ErrorClass, code: String, detail: String, failedEventId: String? = nil, body: [UInt8], properties: AMQPProperties) {
        self.routingKey = routingKey
        self.reason = reason
        self.code = code
        self.detail = detail
        self.failedEventId = failedEventId
        self.body = body
        self.properties = properties
    }
}

extension CommandDeadLetter {
    /// The dead letter of `delivery`, taken from `sourceQueue` at `time`, with its attempt as it arrived.
    package init(
        _ delivery: CommandDelivery, sourceQueue: String, reason: ErrorClass, code: String, detail: String,
        failedEventId: String?, at time: Date
    ) {
        let clipped = Topology.Headers.clippedDetail(detail)
        var properties = delivery.forwardedProperties(attempt: delivery.attempt)
        var headers = properties.headers ?? AMQPTable()
        // The contract's builder is the one source of these headers (and of their RFC 3339 time format).
        let deadLetterHeaders = Topology.deadLetterHeaders(
            reason: reason, code: code, detail: detail, sourceQueue: sourceQueue, failedEventId: failedEventId,
            originalRoutingKey: nil, at: time)
        for name in [Topology.Headers.deadLetterReason, Topology.Headers.deadLetterCode,
                     Topology.Headers.deadLetterDetail, Topology.Headers.deadLetteredAt, Topology.Headers.sourceQueue,
                     Topology.Headers.failedEventId] {
            if let value = deadLetterHeaders[name] { headers[name] = .string(value) }
        }
        properties.headers = headers
        self.init(routingKey: delivery.originalRoutingKey, reason: reason, code: code, detail: clipped,
                  failedEventId: failedEventId, body: delivery.body, properties: properties)
    }
}
