/// What to do with a delivery once it has been processed.
package enum DeliveryDisposition: Equatable, Sendable {
    /// Its outcome (event, retry or dead letter) is confirmed by the broker: ack it.
    case ack
    /// Put it back and stop consuming this provider for a while (configuration failure, open circuit).
    case putBackAndPause(reason: String)
    /// Its outcome was not published and the worker is shutting down: put it back; it is redelivered and goes
    /// through status-first.
    case requeue
}
