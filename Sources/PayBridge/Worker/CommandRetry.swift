import AMQP
import PayBridgeContract

/// A broker-side retry: the command's body, unchanged, published through `payments.internal` into the delay
/// queue of its next attempt, with that attempt in `x-paybridge-attempt`.
struct CommandRetry: Equatable, Sendable {
    /// The delay queue (also the routing key on `payments.internal`).
    var queue: String
    /// The attempt the command is redelivered as.
    var nextAttempt: Int
    var body: [UInt8]
    var properties: AMQPProperties
}

extension CommandRetry {
    /// The retry of `delivery` as attempt `nextAttempt` of a command for `provider`.
    init(_ delivery: CommandDelivery, provider: Provider, nextAttempt: Int) {
        self.init(
            queue: Topology.retryQueue(provider, stage: Topology.retryStage(forAttempt: nextAttempt)),
            nextAttempt: nextAttempt, body: delivery.body,
            properties: delivery.forwardedProperties(attempt: nextAttempt))
    }
}
