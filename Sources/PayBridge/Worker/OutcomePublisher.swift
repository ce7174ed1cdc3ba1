import AMQP
import Foundation
import Synchronization
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
        let queue = Topology.retryQueue(provider, stage: Topology.retryStage(forAttempt: nextAttempt))
        let sent = Self.forwarded(delivery, attempt: nextAttempt, originalRoutingKey: originalRoutingKey)
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
        var properties = Self.forwarded(delivery, attempt: attempt, originalRoutingKey: originalRoutingKey)
        var headers = properties.headers ?? AMQPTable()
        headers[Topology.Headers.deadLetterReason] = .string(reason.rawValue)
        headers[Topology.Headers.deadLetterCode] = .string(code)
        headers[Topology.Headers.deadLetterDetail] = .string(String(detail.prefix(Topology.Headers.maximumDetailLength)))
        headers[Topology.Headers.deadLetteredAt] = .string(ISO8601DateFormatter().string(from: Date()))
        headers[Topology.Headers.sourceQueue] = .string(sourceQueue)
        headers[Topology.Headers.failedEventId] = .string(failedEventId)
        properties.headers = headers
        let sent = properties
        try await withTimeout(confirmTimeout, "dead-letter") {
            try await connection.publish(delivery.body, exchange: Topology.deadLetterExchange,
                                         routingKey: originalRoutingKey, mandatory: true, properties: sent)
        }
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

/// Thrown when a confirmed publish took longer than allowed.
struct PublishTimeoutError: Error, CustomStringConvertible {
    var operation: String
    var limit: Duration
    var description: String { "\(operation): no broker confirm within \(limit)" }
}

/// Waits for `body` at most `limit`, then fails with ``PublishTimeoutError``.
///
/// Why not a task group: a group waits for all its children, and a publish waiting for its broker confirm cannot be
/// cancelled (the message is already with the I/O thread), so a group would wait as long as the broker is away. The
/// publish therefore runs in its own task and is *abandoned* at the deadline: it completes or fails later on its
/// own, which is harmless (an event re-published later carries the same deterministic id; a command whose
/// outcome timed out is requeued and goes status-first). This is the one documented unstructured boundary here.
func withTimeout(_ limit: Duration, _ operation: String, _ body: @escaping @Sendable () async throws -> Void)
    async throws
{
    let outcome = FirstOutcome()
    try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
        outcome.install(continuation)
        let work = Task {
            do {
                try await body()
                outcome.resume(with: .success(()))
            } catch {
                outcome.resume(with: .failure(error))
            }
        }
        Task {
            try? await Task.sleep(for: limit)
            if outcome.resume(with: .failure(PublishTimeoutError(operation: operation, limit: limit))) { work.cancel() }
        }
    }
}

/// Resumes a continuation with whichever outcome comes first.
private final class FirstOutcome: Sendable {
    private let continuation = Mutex<CheckedContinuation<Void, any Error>?>(nil)

    func install(_ continuation: CheckedContinuation<Void, any Error>) {
        self.continuation.withLock { $0 = continuation }
    }

    /// Returns `true` when this call resumed the continuation.
    @discardableResult
    func resume(with result: Result<Void, any Error>) -> Bool {
        guard let c = continuation.withLock({ c -> CheckedContinuation<Void, any Error>? in
            defer { c = nil }
            return c
        }) else { return false }
        c.resume(with: result)
        return true
    }
}
