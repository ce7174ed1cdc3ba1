/// Things that happen to a connection that are not the answer to a call: observe them through
/// ``AMQPConnection/events``.
public enum AMQPConnectionEvent: Sendable {
    /// The connection dropped; the client is reconnecting.
    case disconnected(AMQPError)
    /// The client reconnected, re-declared its topology and resubscribed its consumers.
    case reconnected(attempts: Int)
    /// The broker blocked publishing (`connection.blocked`, e.g. a memory or disk alarm). Publishes wait.
    case blocked(reason: String)
    /// The broker lifted the block.
    case unblocked
    /// The broker cancelled a consumer (queue deleted, node failure); its delivery sequence ends with an error.
    case consumerCancelled(consumerTag: String, queue: String)
    /// Reconnecting was given up (``AMQPReconnectPolicy/maximumAttempts``); the connection is closed.
    case failed(AMQPError)
}
