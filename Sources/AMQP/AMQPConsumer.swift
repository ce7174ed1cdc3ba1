/// The deliveries of one consumer, as an `AsyncSequence`.
///
/// The broker never has more than the consumer's prefetch count of unacknowledged messages outstanding, which
/// bounds the buffer behind this sequence. The sequence ends normally after ``cancel()`` (once the buffered
/// deliveries are read) and throws ``AMQPError`` `.consumerCancelled` when the broker cancels the consumer.
/// Dropping the iterator cancels the consumer. Deliveries keep flowing across reconnects (redelivered ones
/// carry `redelivered == true`).
public struct AMQPConsumer: AsyncSequence, Sendable {
    public typealias Element = AMQPDelivery
    public typealias Failure = any Error

    /// The consumer tag.
    public let consumerTag: String
    /// The queue consumed from.
    public let queue: String
    let stream: AsyncThrowingStream<AMQPDelivery, any Error>
    let loop: AMQPIOLoop

    /// Stops deliveries (`basic.cancel`). Deliveries already received stay readable and can still be settled.
    public func cancel() async {
        await loop.cancelConsumer(tag: consumerTag)
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: AsyncThrowingStream<AMQPDelivery, any Error>.AsyncIterator
        public mutating func next() async throws -> AMQPDelivery? {
            try await base.next()
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: stream.makeAsyncIterator())
    }
}

@available(*, unavailable)
extension AMQPConsumer.AsyncIterator: Sendable {}
