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
    let stream: AsyncThrowingStream<[AMQPDelivery], any Error>
    let mailbox: AMQPMailbox

    /// Stops deliveries (`basic.cancel`). Deliveries already received stay readable and can still be settled.
    public func cancel() async {
        await mailbox.cancelConsumer(tag: consumerTag)
    }

    /// Deliveries arrive from the I/O thread in bursts (all those read in one pass over the socket); the
    /// iterator hands them out one by one without suspending while a burst lasts.
    /// Asks for ``cancel()`` without waiting: for synchronous contexts such as a graceful-shutdown handler.
    public func requestCancellation() {
        mailbox.enqueue(.cancel(consumerTag, nil))
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: AsyncThrowingStream<[AMQPDelivery], any Error>.AsyncIterator
        var burst: [AMQPDelivery] = []
        var position = 0

        public mutating func next() async throws -> AMQPDelivery? {
            while position == burst.count {
                guard let next = try await base.next() else { return nil }
                burst = next
                position = 0
            }
            defer { position += 1 }
            return burst[position]
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: stream.makeAsyncIterator())
    }

    /// The deliveries in the bursts they arrived in, for handlers that work on batches.
    public var batches: AsyncThrowingStream<[AMQPDelivery], any Error> { stream }
}

@available(*, unavailable)
extension AMQPConsumer.AsyncIterator: Sendable {}
