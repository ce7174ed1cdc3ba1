import AMQP
import PayBridgeContract
import PayBridgeRules
import PayBridgeTracing
import Tracing

/// Publishes PayBridge's messages with publisher confirms: outcome events, broker-side retries and dead letters.
/// Every method returns only after the broker confirmed, so callers ack their input afterwards.
package struct OutcomePublisher: OutcomeSink {
    let connection: AMQPConnection
    /// Upper bound for one confirmed publish, including time waiting for a reconnect (the callback endpoint
    /// answers 503 past it; the worker retries the publish). Enforced by the connection's I/O thread.
    var confirmTimeout: Duration = .seconds(10)
    /// Every message published while a span is current carries its trace context (``MessageTracing``); `nil`: none.
    var tracing: MessageTracing?

    /// Publishes an outcome event to `payments.outcomes`, mandatory: an event no queue is bound for goes to the
    /// exchange's alternate exchange (`payments.unrouted`); where that is missing too, the broker returns it and
    /// this throws `.unroutable`, so the caller never acks a command whose event went nowhere.
    func publish(_ message: OutcomeMessage) async throws {
        let trace = tracing?.current
        let message = message.traced(trace)
        try await connection.publish(message.body, exchange: message.exchange, routingKey: message.routingKey,
                                     mandatory: true, properties: stamped(Self.properties(message), trace),
                                     confirmTimeout: confirmTimeout)
    }

    /// `properties` with the trace headers (unchanged without tracing or outside a span).
    private func stamped(_ properties: AMQPProperties, _ trace: TraceHeaders?) -> AMQPProperties {
        guard let tracing, let trace else { return properties }
        return tracing.stamped(properties, with: trace)
    }

    private func stamped(_ properties: AMQPProperties) -> AMQPProperties {
        stamped(properties, tracing?.current)
    }

    /// An event's AMQP properties.
    package static func properties(_ message: OutcomeMessage) -> AMQPProperties {
        let p = message.properties
        return AMQPProperties(
            contentType: p.contentType, persistent: p.deliveryMode == 2,
            // The command id as sent (a rejected command's id is unvalidated): AMQP's correlation_id holds 255 bytes.
            // A longer one is left out rather than refused; the event's data carries it in full.
            correlationId: p.correlationId.flatMap {
                $0.utf8.count <= AMQPProperties.maximumShortStringBytes ? $0 : nil
            },
            messageId: p.messageId, timestamp: UInt64(clamping: p.timestamp), type: p.type, appId: p.appId)
    }

    /// Publishes the events and the check as one batch (one hand-over to the I/O thread, one wake-up for every
    /// confirm) when there is more than one message: a create left open publishes its event and its first check
    /// for about the cost of one publish. Mandatory, as each single publish is.
    func publish(_ events: [OutcomeMessage], then check: ScheduledCheck?) async throws {
        guard events.count + (check == nil ? 0 : 1) > 1 else {
            if let event = events.first { try await publish(event) }
            if let check { try await scheduleCheck(check) }
            return
        }
        let trace = tracing?.current
        var batch = events.map { event in
            let event = event.traced(trace)
            return AMQPMessage(body: event.body, exchange: event.exchange, routingKey: event.routingKey,
                               mandatory: true, properties: stamped(Self.properties(event), trace))
        }
        if let check {
            batch.append(AMQPMessage(body: check.check.body, exchange: Topology.internalExchange, routingKey: check.queue, mandatory: true,
                                     properties: stamped(check.check.properties, trace)))
        }
        for result in await connection.publish(batch: batch, confirmTimeout: confirmTimeout) {
            try result.get()
        }
    }

    /// Returns a command to the tail of its queue as it arrived (body, properties, attempt), for a pause. It goes
    /// through ``Topology/internalExchange``, so its original routing key travels in PayBridge's header, as for a
    /// retry.
    /// Unlike a `nack` with requeue, the copy starts with a fresh delivery count, so pauses never push a command
    /// toward the queue's delivery limit. The caller acks the original afterwards.
    func putBack(_ delivery: CommandDelivery, queue: String) async throws {
        try await connection.publish(delivery.body, exchange: Topology.internalExchange, routingKey: queue, mandatory: true,
                                     properties: stamped(delivery.putBackProperties()), confirmTimeout: confirmTimeout)
    }

    /// Stores a verified callback on its provider's command queue (``Topology/internalExchange``, mandatory: a missing queue
    /// makes this throw, and the endpoint answers 503 so the provider retries).
    func store(_ notification: CallbackNotification) async throws {
        try await connection.publish(notification.body, exchange: Topology.internalExchange, routingKey: notification.queue, mandatory: true,
                                     properties: stamped(notification.properties), confirmTimeout: confirmTimeout)
    }

    /// Publishes a broker-side retry: the original body, unchanged, into the delay queue of the next attempt.
    func scheduleRetry(_ retry: CommandRetry) async throws {
        try await connection.publish(retry.body, exchange: Topology.internalExchange, routingKey: retry.queue, mandatory: true,
                                     properties: stamped(retry.properties), confirmTimeout: confirmTimeout)
    }

    /// Publishes a reconciliation check into its delay queue (``Topology/internalExchange``, mandatory: a missing delay queue
    /// makes this throw, and the command's outcome is retried rather than the chain lost).
    func scheduleCheck(_ scheduled: ScheduledCheck) async throws {
        try await connection.publish(scheduled.check.body, exchange: Topology.internalExchange, routingKey: scheduled.queue, mandatory: true,
                                     properties: stamped(scheduled.check.properties), confirmTimeout: confirmTimeout)
    }

    /// Dead-letters a command with the reason in PayBridge's headers (never requeued).
    func deadLetter(_ deadLetter: CommandDeadLetter) async throws {
        try await connection.publish(deadLetter.body, exchange: deadLetter.exchange, routingKey: deadLetter.routingKey,
                                     mandatory: true, properties: stamped(deadLetter.properties),
                                     confirmTimeout: confirmTimeout)
    }

    /// Answers a query through the default exchange (the `paybridge` role may write to `amq.default` for this
    /// alone; the rules answer only direct reply-to names, never a queue). Not mandatory and not persistent: a
    /// reply nobody waits for any more is dropped by the broker, which is what the asker's timeout means.
    func reply(_ reply: PaymentMethodsReply) async throws {
        let properties = AMQPProperties(
            contentType: CloudEvent.structuredContentType, persistent: false,
            correlationId: reply.address.correlationId.flatMap {
                $0.utf8.count <= AMQPProperties.maximumShortStringBytes ? $0 : nil
            },
            messageId: reply.event.id, type: PaymentMethodsReply.type, appId: "paybridge")
        try await connection.publish(reply.body, exchange: "", routingKey: reply.address.replyTo, mandatory: false,
                                     properties: stamped(properties), confirmTimeout: confirmTimeout)
    }
}
