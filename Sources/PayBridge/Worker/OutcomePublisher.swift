import AMQP
import Foundation
import PayBridgeContract

/// Publishes PayBridge's messages with publisher confirms: outcome events, broker-side retries and dead letters.
/// Every method returns only after the broker confirmed, so callers ack their input afterwards.
struct OutcomePublisher: Sendable {
    let connection: AMQPConnection
    /// Upper bound for one confirmed publish (the callback endpoint answers 503 past it).
    var confirmTimeout: Duration = .seconds(10)

    /// Publishes an outcome event to `payments.outcomes` (mandatory is off: nobody bound yet is not an error).
    func publish(_ message: OutcomeMessage) async throws {
        let p = message.properties
        let properties = AMQPProperties(
            contentType: p.contentType, persistent: p.deliveryMode == 2, correlationId: p.correlationId,
            messageId: p.messageId, timestamp: UInt64(max(0, p.timestamp)), type: p.type, appId: p.appId)
        try await withTimeout(confirmTimeout, "publish \(p.type)") {
            try await connection.publish(message.body, exchange: message.exchange, routingKey: message.routingKey,
                                         properties: properties)
        }
    }

    /// Schedules a broker-side retry: the original body, unchanged, into the delay queue of the next attempt.
    func scheduleRetry(of delivery: AMQPDelivery, provider: Provider, nextAttempt: Int, originalRoutingKey: String)
        async throws
    {
        var properties = delivery.properties
        var headers = properties.headers ?? AMQPTable()
        headers[Topology.Headers.attempt] = .int32(Int32(nextAttempt))
        headers[Topology.Headers.originalRoutingKey] = .string(originalRoutingKey)
        properties.headers = headers
        properties.persistent = true
        let queue = Topology.retryQueue(provider, stage: Topology.retryStage(forAttempt: nextAttempt))
        let sent = properties
        try await withTimeout(confirmTimeout, "retry to \(queue)") {
            try await connection.publish(delivery.body, exchange: "", routingKey: queue, mandatory: true,
                                         properties: sent)
        }
    }

    /// Dead-letters a command with the reason in PayBridge's headers (never requeued).
    func deadLetter(
        _ delivery: AMQPDelivery, sourceQueue: String, originalRoutingKey: String, attempt: Int, reason: ErrorClass,
        code: String, detail: String, failedEventId: String
    ) async throws {
        var properties = delivery.properties
        var headers = properties.headers ?? AMQPTable()
        headers[Topology.Headers.attempt] = .int32(Int32(attempt))
        headers[Topology.Headers.originalRoutingKey] = .string(originalRoutingKey)
        headers[Topology.Headers.deadLetterReason] = .string(reason.rawValue)
        headers[Topology.Headers.deadLetterCode] = .string(code)
        headers[Topology.Headers.deadLetterDetail] = .string(String(detail.prefix(Topology.Headers.maximumDetailLength)))
        headers[Topology.Headers.deadLetteredAt] = .string(ISO8601DateFormatter().string(from: Date()))
        headers[Topology.Headers.sourceQueue] = .string(sourceQueue)
        headers[Topology.Headers.failedEventId] = .string(failedEventId)
        properties.headers = headers
        properties.persistent = true
        let sent = properties
        try await withTimeout(confirmTimeout, "dead-letter") {
            try await connection.publish(delivery.body, exchange: Topology.deadLetterExchange,
                                         routingKey: originalRoutingKey, mandatory: true, properties: sent)
        }
    }
}

/// Thrown when a confirmed publish took longer than allowed.
struct PublishTimeoutError: Error, CustomStringConvertible {
    var operation: String
    var limit: Duration
    var description: String { "\(operation): no broker confirm within \(limit)" }
}

/// Runs `body`, failing with ``PublishTimeoutError`` after `limit`. The body keeps running to completion in the
/// background task group only until it observes cancellation; a publish that is eventually confirmed is harmless
/// (events carry deterministic ids, retries and dead letters are idempotent for consumers).
func withTimeout(_ limit: Duration, _ operation: String, _ body: @escaping @Sendable () async throws -> Void)
    async throws
{
    try await withThrowingTaskGroup(of: Bool.self) { group in
        group.addTask {
            try await body()
            return true
        }
        group.addTask {
            try await Task.sleep(for: limit)
            return false
        }
        let finished = try await group.next()!
        group.cancelAll()
        if !finished { throw PublishTimeoutError(operation: operation, limit: limit) }
    }
}
