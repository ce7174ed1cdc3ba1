/// A message delivered to a consumer. A `Sendable` value: settle it from any task with ``ack()``,
/// ``nack(requeue:)`` or ``reject(requeue:)``; the command is carried out on the connection's I/O thread.
public struct AMQPDelivery: Sendable {
    /// The message body.
    public let body: [UInt8]
    /// The message properties and headers.
    public let properties: AMQPProperties
    /// The broker's delivery tag on the consuming channel.
    public let deliveryTag: UInt64
    /// `true` when the broker delivered this message before (to this or another consumer) without an ack.
    public let redelivered: Bool
    /// The exchange the message was published to (`""` for the default exchange).
    public let exchange: String
    /// The routing key it was published with.
    public let routingKey: String
    /// The consumer it was delivered to.
    public let consumerTag: String

    /// Which incarnation of the consuming channel delivered it: settlements from an older one are never sent.
    let epoch: UInt64
    let mailbox: AMQPMailbox

    init(body: [UInt8], properties: AMQPProperties, deliveryTag: UInt64, redelivered: Bool, exchange: String,
         routingKey: String, consumerTag: String, epoch: UInt64, mailbox: AMQPMailbox) {
        self.body = body
        self.properties = properties
        self.deliveryTag = deliveryTag
        self.redelivered = redelivered
        self.exchange = exchange
        self.routingKey = routingKey
        self.consumerTag = consumerTag
        self.epoch = epoch
        self.mailbox = mailbox
    }

    /// Acknowledges the message: the broker forgets it. The ack is queued for the I/O thread, which sends it
    /// in order with everything queued before; it does not wait for the broker (AMQP acks have no reply).
    /// - Throws: ``AMQPError`` `.staleDelivery` when the connection that delivered it has been replaced (the
    ///   broker will redeliver it), `.alreadyClosed` after `close()`.
    public func ack() async throws {
        try mailbox.settle(self, .ack)
    }

    /// Negatively acknowledges the message; with `requeue: false` it is dead-lettered (if the queue has a DLX) or
    /// dropped.
    public func nack(requeue: Bool) async throws {
        try mailbox.settle(self, .nack(requeue: requeue))
    }

    /// Rejects the message; with `requeue: false` it is dead-lettered (if the queue has a DLX) or dropped.
    public func reject(requeue: Bool) async throws {
        try mailbox.settle(self, .reject(requeue: requeue))
    }

    /// The body as UTF-8 text.
    public var bodyString: String { String(decoding: body, as: UTF8.self) }
}
