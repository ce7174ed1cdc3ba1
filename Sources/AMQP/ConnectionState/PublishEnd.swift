/// How one publish ended, as the confirm ledger decides it: a plain value, so every path can be tested without a
/// broker. The I/O thread turns it into the caller's `Result` (``AMQPError`` with the broker's host attached).
enum PublishEnd: Equatable, Sendable {
    /// `basic.ack`: the broker took responsibility for the message.
    case confirmed
    /// `basic.nack`: the broker refused it.
    case nacked
    /// `basic.return` (a mandatory message no queue took), then its confirm.
    case returned(exchange: String, routingKey: String, replyCode: UInt16, replyText: String)
    /// Sent, but no confirm before the caller's deadline (a late confirm is ignored).
    case confirmTimedOut
    /// Never sent: still waiting (disconnected, or blocked by the broker) when the caller's deadline passed.
    case notSentInTime
    /// Sent, but the connection dropped before the confirm; it is not re-sent.
    case connectionLost
    /// The broker closed the publishing channel before the confirm.
    case channelClosed(channel: UInt16, replyCode: UInt16, replyText: String)
    /// The application closed the connection before the confirm.
    case closed
}

extension PublishEnd {
    /// The caller's result: success only for ``confirmed``.
    func result(host: String, underlying: (any Error)? = nil) -> Result<Void, AMQPError> {
        switch self {
        case .confirmed:
            return .success(())
        case .nacked:
            return .failure(AMQPError(.publishNacked, "the broker refused the message (basic.nack)", host: host,
                                      operation: "basic.publish"))
        case .returned(let exchange, let routingKey, let replyCode, let replyText):
            return .failure(AMQPError(
                .unroutable, "no queue is bound for this routing key (basic.return)", replyCode: replyCode,
                replyText: replyText, host: host, operation: "basic.publish(\(exchange) '\(routingKey)')"))
        case .confirmTimedOut:
            return .failure(AMQPError(
                .timeout, "no broker confirm within the caller's confirm timeout; the broker may still deliver it",
                host: host, operation: "basic.publish"))
        case .notSentInTime:
            return .failure(AMQPError(
                .timeout, "not sent within the caller's confirm timeout (the connection is down or the broker "
                    + "blocks publishing); it was dropped: publish it again", host: host, operation: "basic.publish"))
        case .connectionLost:
            return .failure(AMQPError(
                .connectionClosed, "the connection dropped before the broker confirmed this message; it was not "
                    + "re-sent: publish it again", host: host, operation: "basic.publish", underlying: underlying))
        case .channelClosed(let channel, let replyCode, let replyText):
            return .failure(AMQPError(.channelClosed, "broker closed channel \(channel)", replyCode: replyCode,
                                      replyText: replyText, host: host))
        case .closed:
            return .failure(AMQPError(.alreadyClosed, "the connection was closed before the broker confirmed",
                                      host: host, operation: "basic.publish"))
        }
    }
}
