import AMQP
import Foundation
import PayBridgeContract

/// Publishes PayBridge's messages with publisher confirms: outcome events, broker-side retries and dead letters.
/// Every method returns only after the broker confirmed, so callers ack their input afterwards.
struct OutcomePublisher: Sendable {
    let connection: AMQPConnection
    /// Upper bound for one confirmed publish, including time waiting for a reconnect (the callback endpoint
    /// answers 503 past it; the worker requeues the command). Enforced by the connection's I/O thread.
    var confirmTimeout: Duration = .seconds(10)

    /// Publishes an outcome event to `payments.outcomes` (mandatory is off: nobody bound yet is not an error).
    func publish(_ message: OutcomeMessage) async throws {
        let p = message.properties
        let properties = AMQPProperties(
            contentType: p.contentType, persistent: p.deliveryMode == 2, correlationId: p.correlationId,
            messageId: p.messageId, timestamp: UInt64(max(0, p.timestamp)), type: p.type, appId: p.appId)
        try await connection.publish(message.body, exchange: message.exchange, routingKey: message.routingKey,
                                     properties: properties, confirmTimeout: confirmTimeout)
    }

    /// Schedules a broker-side retry: the original body, unchanged, into the delay queue of the next attempt.
    func scheduleRetry(of delivery: AMQPDelivery, provider: Provider, nextAttempt: Int, originalRoutingKey: String)
        async throws
    {
        let queue = Topology.retryQueue(provider, stage: Topology.retryStage(forAttempt: nextAttempt))
        let sent = Self.forwarded(delivery, attempt: nextAttempt, originalRoutingKey: originalRoutingKey)
        try await connection.publish(delivery.body, exchange: "", routingKey: queue, mandatory: true,
                                     properties: sent, confirmTimeout: confirmTimeout)
    }

    /// Dead-letters a command with the reason in PayBridge's headers (never requeued).
    func deadLetter(
        _ delivery: AMQPDelivery, sourceQueue: String, originalRoutingKey: String, attempt: Int, reason: ErrorClass,
        code: String, detail: String, failedEventId: String
    ) async throws {
        var properties = Self.forwarded(delivery, attempt: attempt, originalRoutingKey: originalRoutingKey)
        var headers = properties.headers ?? AMQPTable()
        headers[Topology.Headers.deadLetterReason] = .string(reason.rawValue)
        headers[Topology.Headers.deadLetterCode] = .string(code)
        headers[Topology.Headers.deadLetterDetail] = .string(String(detail.prefix(Topology.Headers.maximumDetailLength)))
        headers[Topology.Headers.deadLetteredAt] = .string(ISO8601DateFormatter().string(from: Date()))
        headers[Topology.Headers.sourceQueue] = .string(sourceQueue)
        headers[Topology.Headers.failedEventId] = .string(failedEventId)
        properties.headers = headers
        try await connection.publish(delivery.body, exchange: Topology.deadLetterExchange,
                                     routingKey: originalRoutingKey, mandatory: true, properties: properties,
                                     confirmTimeout: confirmTimeout)
    }
}

extension OutcomePublisher {
    /// The delivery's properties for re-publishing it unchanged (retry or dead letter): persistent, with its attempt
    /// number and original routing key in PayBridge's headers.
    static func forwarded(_ delivery: AMQPDelivery, attempt: Int, originalRoutingKey: String) -> AMQPProperties {
        var properties = delivery.properties
        var headers = properties.headers ?? AMQPTable()
        headers[Topology.Headers.attempt] = .int32(Int32(attempt))
        headers[Topology.Headers.originalRoutingKey] = .string(originalRoutingKey)
        properties.headers = headers
        properties.persistent = true
        return properties
    }
}
