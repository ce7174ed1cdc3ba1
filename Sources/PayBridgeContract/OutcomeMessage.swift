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

    /// The message body: canonical JSON of ``event``.
    public var body: [UInt8] { event.serialized() }
}
