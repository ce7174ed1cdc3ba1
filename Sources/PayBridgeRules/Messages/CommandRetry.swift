import AMQPValues
import PayBridgeContract
import PaymentVocabulary

/// A broker-side retry: the command's body, unchanged, published through `payments.internal` into the delay
/// queue of its next attempt, with that attempt in `x-paybridge-attempt`.
package struct CommandRetry: Equatable, Sendable {
    /// The delay queue (also the routing key on `payments.internal`).
    package var queue: String
    /// The attempt the command is redelivered as.
    package var nextAttempt: Int
    package var body: [UInt8]
    package var properties: AMQPProperties

    package init(queue: String, nextAttempt: Int, body: [UInt8], properties: AMQPProperties) {
        self.queue = queue
        self.nextAttempt = nextAttempt
        self.body = body
        self.properties = properties
    }
}

extension CommandRetry {
    /// The retry of `delivery` as attempt `nextAttempt` of a command for `provider`.
    package init(_ delivery: CommandDelivery, provider: Provider, nextAttempt: Int) {
        self.init(
            queue: Topology.retryQueue(provider, stage: Topology.retryStage(forAttempt: nextAttempt)),
            nextAttempt: nextAttempt, body: delivery.body,
            properties: delivery.forwardedProperties(attempt: nextAttempt))
    }
}
