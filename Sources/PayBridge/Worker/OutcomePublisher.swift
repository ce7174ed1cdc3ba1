import AMQP
import Foundation
import PayBridgeContract

/// Publishes PayBridge's messages with publisher confirms: outcome events, broker-side retries and dead letters.
/// Every method returns only after the broker confirmed, so callers ack their input afterwards.
struct OutcomePublisher: Sendable {
    let connection: AMQPConnection
    /// Closed while commands' outcomes cannot be published (see ``CommandProcessor``).
    let gate: OutcomeGate
    /// Upper bound for one confirmed publish, including time waiting for a reconnect (the callback endpoint
    /// answers 503 past it; the worker retries the publish). Enforced by the connection's I/O thread.
    var confirmTimeout: Duration = .seconds(10)

    /// Publishes an outcome event to `payments.outcomes`, mandatory: an event no queue is bound for goes to the
    /// exchange's alternate exchange (`payments.unrouted`); where that is missing too, the broker returns it and
    /// this throws `.unroutable`, so the caller never acks a command whose event went nowhere.
    func publish(_ message: OutcomeMessage) async throws {
        let p = message.properties
        let properties = AMQPProperties(
            contentType: p.contentType, persistent: p.deliveryMode == 2,
            // The command id as sent (a rejected command's id is unvalidated): AMQP's correlation_id holds 255 bytes.
            // A longer one is left out rather than refused; the event's data carries it in full.
            correlationId: p.correlationId.flatMap {
                $0.utf8.count <= AMQPProperties.maximumShortStringBytes ? $0 : nil
            },
            messageId: p.messageId, timestamp: UInt64(clamping: p.timestamp), type: p.type, appId: p.appId)
        try await connection.publish(message.body, exchange: message.exchange, routingKey: message.routingKey,
                                     mandatory: true, properties: properties, confirmTimeout: confirmTimeout)
    }

    /// Returns a command to the tail of its queue as it arrived (body, properties, attempt), for a pause. It goes
    /// through the default exchange, so its original routing key travels in PayBridge's header, as for a retry.
    /// Unlike a `nack` with requeue, the copy starts with a fresh delivery count, so pauses never push a command
    /// toward the queue's delivery limit. The caller acks the original afterwards.
    func putBack(_ delivery: AMQPDelivery, queue: String) async throws {
        // A command whose PayBridge headers are unusable goes back with attempt 1 under its delivery's key, and one
        // whose metadata could not be decoded exactly goes back without it (see `forwarded`). The copy is not marked
        // redelivered, so a redelivered command (its create may have reached the provider) goes back as attempt 2 or
        // later and still goes status-first.
        let headers = CommandHeaders(properties: delivery.properties, deliveryRoutingKey: delivery.routingKey)
        let attempt = delivery.redelivered ? max(headers.attempt, 2) : headers.attempt
        let properties = Self.forwarded(delivery, attempt: attempt, originalRoutingKey: headers.routingKey)
        try await connection.publish(delivery.body, exchange: "", routingKey: queue, mandatory: true,
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
    /// A delivery whose metadata could not be decoded exactly (``AMQPDecodingProblems``) is forwarded without the
    /// producer's headers (too deep) or without any of the producer's properties (not UTF-8): re-sent as read they
    /// would differ from what arrived or not fit AMQP's short strings. Its body is forwarded byte for byte as always.
    static func forwarded(_ delivery: AMQPDelivery, attempt: Int, originalRoutingKey: String) -> AMQPProperties {
        forwardedProperties(delivery.properties, attempt: attempt, originalRoutingKey: originalRoutingKey)
    }

    static func forwardedProperties(_ received: AMQPProperties, attempt: Int, originalRoutingKey: String)
        -> AMQPProperties
    {
        var properties = received
        if received.decodingProblems.contains(.notUTF8) {
            properties = AMQPProperties()  // which property was repaired is not known: none is re-sent
        } else if received.decodingProblems.contains(.headersTooDeep) {
            properties.headers = nil  // the other properties were decoded exactly
        }
        var headers = properties.headers ?? AMQPTable()
        headers[Topology.Headers.attempt] = .int32(Int32(clamping: attempt))
        headers[Topology.Headers.originalRoutingKey] = .string(originalRoutingKey)
        properties.headers = headers
        properties.persistent = true
        return properties
    }
}
