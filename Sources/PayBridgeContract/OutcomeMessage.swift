/// A ready-to-publish outcome event: the CloudEvent, where to publish it and the AMQP properties.
public struct OutcomeMessage: Sendable, Equatable {
    /// The event (structured mode).
    public let event: CloudEvent
    /// Exchange: ``Topology/outcomesExchange``.
    public let exchange: String
    /// Routing key, e.g. `amanpay.purchase.response`.
    public let routingKey: String
    /// AMQP basic properties mirroring the envelope.
    public let properties: MessageProperties
    /// The typed values the event was written from (status, amount mismatch, …): what logs and metrics read, so
    /// nothing is read back out of the event's JSON.
    public let outcome: PaymentOutcome

    /// The message body: canonical JSON of ``event``.
    public var body: [UInt8] { event.serialized() }

    /// The event with W3C trace context as the CloudEvents extension attributes `traceparent` and `tracestate`
    /// (the distributed-tracing extension); the id and everything else unchanged.
    public func withTraceContext(traceparent: String, tracestate: String?) -> OutcomeMessage {
        var event = event
        event.extensions["traceparent"] = .string(traceparent)
        event.extensions["tracestate"] = tracestate.map { .string($0) }
        return OutcomeMessage(event: event, exchange: exchange, routingKey: routingKey, properties: properties,
                              outcome: outcome)
    }
}
