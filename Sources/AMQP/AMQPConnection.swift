import Foundation
import Logging

/// A connection to a RabbitMQ broker over librabbitmq, with its own I/O thread.
///
/// Every method is `async` and safe to call from any task; none blocks Swift's cooperative thread pool. The
/// connection recovers by itself: when it drops it reconnects with backoff and jitter, re-declares the
/// exchanges, queues and bindings declared through it, restores confirm mode and QoS, and resubscribes its
/// consumers. Observe that through ``events``.
///
/// Publishing uses publisher confirms: ``publish(_:exchange:routingKey:mandatory:properties:)`` returns when the
/// broker has taken responsibility for the message, and any number of publishes may be in flight at once.
/// Publishes not yet confirmed when the connection drops fail with a retryable ``AMQPError`` (they are **not**
/// re-sent automatically: the caller decides, which keeps "publish, then ack the input" correct).
public final class AMQPConnection: Sendable {
    let mailbox: AMQPMailbox

    /// Connection-level events: disconnects, reconnects, flow control, broker-cancelled consumers.
    public var events: AsyncStream<AMQPConnectionEvent> { mailbox.events }

    /// The configuration this connection was opened with.
    public var configuration: AMQPConfiguration { mailbox.configuration }

    /// `host:port` of the broker node the connection is on; while it reconnects, the node it was last on. Never
    /// credentials. With several nodes (``AMQPConfiguration/nodes``) it changes when recovery moves on to another
    /// node, before ``AMQPConnectionEvent/reconnected(attempts:)`` is delivered.
    public var currentNode: String { mailbox.currentEndpoint }

    private init(mailbox: AMQPMailbox) {
        self.mailbox = mailbox
    }

    deinit {
        // Dropped without close(): close in the background (the I/O thread keeps the mailbox alive until done).
        mailbox.enqueue(.close(nil))
    }

    /// Opens a connection. The first attempt is not retried, so a wrong password or an unreachable broker fails
    /// fast with a clear error (`.authenticationFailed`, `.connectionFailed`). With several nodes
    /// (``AMQPConfiguration/nodes``) each is tried once, in ``AMQPConfiguration/nodeOrder``, until one accepts; when
    /// none does, the error names every node and its failure.
    /// - Parameters:
    ///   - configuration: where and how to connect.
    ///   - logger: receives debug lines and the reconnect notices; never the password.
    /// - Throws: ``AMQPError``.
    public static func connect(_ configuration: AMQPConfiguration,
                               logger: Logger = Logger(label: "paybridge.amqp")) async throws -> AMQPConnection {
        var generator = SystemRandomNumberGenerator()
        return try await connect(configuration, logger: logger, shufflingNodesWith: &generator)
    }

    /// Opens a connection, drawing the order of a shuffled node list (``AMQPNodeOrder/shuffled``) from `generator`
    /// (a seeded one makes the order reproducible). Otherwise as ``connect(_:logger:)``.
    public static func connect(_ configuration: AMQPConfiguration, logger: Logger = Logger(label: "paybridge.amqp"),
                               shufflingNodesWith generator: inout some RandomNumberGenerator) async throws
        -> AMQPConnection
    {
        let nodes = NodeRotation(nodeCount: configuration.nodes.count, order: configuration.nodeOrder,
                                 using: &generator)
        let mailbox = AMQPMailbox(configuration: configuration, logger: logger)
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            // The I/O thread's state is created on the thread itself and never leaves it.
            let thread = Thread { AMQPIOThread(mailbox: mailbox, nodes: nodes).start(continuation) }
            thread.name = "paybridge.amqp.io \(configuration.connectionName)"
            // librabbitmq decodes header tables recursively in C, with no depth limit of its own. A frame is at
            // most frame_max (131,072 bytes by default), and each nesting level costs at least 6 bytes of it, so
            // a hostile message nests at most ~22,000 levels: well inside 8 MiB of C frames. Set explicitly so
            // the bound does not depend on the platform's default thread stack size.
            thread.stackSize = 8 << 20
            thread.start()
        }
        return AMQPConnection(mailbox: mailbox)
    }

    /// Opens a connection from an `amqp://` / `amqps://` URL, or a comma-separated list of a cluster's nodes
    /// (``AMQPConfiguration/init(url:)``).
    public static func connect(url: String, logger: Logger = Logger(label: "paybridge.amqp")) async throws
        -> AMQPConnection
    {
        try await connect(AMQPConfiguration(url: url), logger: logger)
    }

    // MARK: Topology

    /// Declares an exchange (or, with `passive`, checks it exists). Non-passive declarations are repeated after
    /// a reconnect.
    /// - Throws: ``AMQPError`` `.channelClosed` with reply 404 (passive, missing) or 406 (mismatched arguments).
    public func declare(_ exchange: AMQPExchange) async throws {
        _ = try await topology(.declareExchange(exchange))
    }

    /// Declares a queue (or, with `passive`, checks it exists) and returns its message and consumer counts.
    @discardableResult
    public func declare(_ queue: AMQPQueue) async throws -> AMQPQueueState {
        try await topology(.declareQueue(queue))!
    }

    /// Binds a queue to an exchange.
    public func bind(_ binding: AMQPBinding) async throws {
        _ = try await topology(.bind(binding))
    }

    /// Binds `queue` to `exchange` with `routingKey`.
    public func bind(queue: String, exchange: String, routingKey: String, arguments: AMQPTable = [:]) async throws {
        try await bind(AMQPBinding(queue: queue, exchange: exchange, routingKey: routingKey, arguments: arguments))
    }

    /// Deletes a queue; returns how many messages it held.
    @discardableResult
    public func deleteQueue(_ name: String) async throws -> UInt32 {
        try await topology(.deleteQueue(name))!.messageCount
    }

    /// Deletes an exchange.
    public func deleteExchange(_ name: String) async throws {
        _ = try await topology(.deleteExchange(name))
    }

    /// Removes all ready messages from a queue; returns how many.
    @discardableResult
    public func purgeQueue(_ name: String) async throws -> UInt32 {
        try await topology(.purgeQueue(name))!.messageCount
    }

    private func topology(_ operation: TopologyOperation) async throws -> AMQPQueueState? {
        try await withCheckedThrowingContinuation { continuation in
            mailbox.enqueue(.topology(operation, continuation))
        }
    }

    // MARK: Publishing

    /// Publishes a message and waits for the broker's confirm.
    /// - Parameters:
    ///   - body: the message body.
    ///   - exchange: the exchange (`""` for the default exchange, routing by queue name).
    ///   - routingKey: the routing key.
    ///   - mandatory: when `true`, a message no queue receives fails with `.unroutable` instead of vanishing.
    ///   - properties: message properties and headers (set `persistent: true` for durability).
    ///   - confirmTimeout: how long to wait for the confirm, including any time spent waiting for a reconnect or
    ///     for the broker to unblock publishing. `nil` (default): wait as long as it takes.
    /// - Throws: ``AMQPError``: `.unroutable`, `.publishNacked`, `.channelClosed` (e.g. 404: no such exchange),
    ///   `.connectionClosed` (retryable: not confirmed before the connection dropped), `.timeout` (retryable: no
    ///   confirm within `confirmTimeout`; a message already sent may still be delivered), `.alreadyClosed`.
    public func publish(_ body: [UInt8], exchange: String, routingKey: String, mandatory: Bool = false,
                        properties: AMQPProperties = AMQPProperties(), confirmTimeout: Duration? = nil) async throws {
        let deadline = confirmTimeout.map { ContinuousClock.now + $0 }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            mailbox.enqueue(.publish(.init(exchange: exchange, routingKey: routingKey, mandatory: mandatory,
                                           properties: properties, body: body, deadline: deadline,
                                           continuation: continuation)))
        }
    }

    /// Publishes several messages in one hand-over to the I/O thread and waits for all their confirms.
    ///
    /// Cheaper per message than separate ``publish(_:exchange:routingKey:mandatory:properties:)`` calls (one
    /// continuation and one wake-up for the whole batch), for handlers that work on delivery bursts
    /// (``AMQPConsumer/batches``). Messages are sent in order; each has its own result, with the same errors as a
    /// single publish.
    /// - Parameters:
    ///   - batch: the messages.
    ///   - confirmTimeout: as for a single publish, for the whole batch.
    /// - Returns: one result per message, in order.
    public func publish(batch: [AMQPMessage], confirmTimeout: Duration? = nil) async -> [Result<Void, AMQPError>] {
        let deadline = confirmTimeout.map { ContinuousClock.now + $0 }
        return await withCheckedContinuation { continuation in
            mailbox.enqueue(.publishBatch(batch, deadline: deadline, continuation))
        }
    }

    /// Publishes UTF-8 text. See ``publish(_:exchange:routingKey:mandatory:properties:)``.
    public func publish(_ text: String, exchange: String, routingKey: String, mandatory: Bool = false,
                        properties: AMQPProperties = AMQPProperties(), confirmTimeout: Duration? = nil) async throws {
        try await publish(Array(text.utf8), exchange: exchange, routingKey: routingKey, mandatory: mandatory,
                          properties: properties, confirmTimeout: confirmTimeout)
    }

    // MARK: Consuming

    /// Starts consuming `queue` with manual acknowledgements.
    /// - Parameters:
    ///   - queue: the queue.
    ///   - prefetch: the most unacknowledged deliveries the broker sends this consumer (`basic.qos`).
    ///   - consumerTag: a tag; default a unique one.
    ///   - arguments: `basic.consume` arguments (e.g. `x-priority`).
    /// - Returns: the consumer, an `AsyncSequence` of ``AMQPDelivery``.
    /// - Throws: ``AMQPError`` `.channelClosed` with 404 when the queue does not exist.
    public func consume(queue: String, prefetch: UInt16 = 100, consumerTag: String? = nil,
                        arguments: AMQPTable = [:]) async throws -> AMQPConsumer {
        let tag = consumerTag ?? "paybridge-\(UUID().uuidString.lowercased())"
        let (stream, continuation) = AsyncThrowingStream<[AMQPDelivery], any Error>.makeStream()
        let mailbox = self.mailbox
        continuation.onTermination = { termination in
            if case .cancelled = termination { mailbox.enqueue(.cancel(tag, nil)) }
        }
        let subscription = ConsumerRegistry<AMQPCommand.DeliverySink, AMQPDelivery>.Subscription(
            tag: tag, queue: queue, prefetch: prefetch, arguments: arguments)
        try await withCheckedThrowingContinuation { (started: CheckedContinuation<Void, any Error>) in
            mailbox.enqueue(.consume(subscription, continuation, started))
        }
        return AMQPConsumer(consumerTag: tag, queue: queue, stream: stream, mailbox: mailbox)
    }

    // MARK: Closing

    /// Closes the connection gracefully: cancels consumers, waits (up to `operationTimeout`) for outstanding
    /// publisher confirms, then closes channels and connection. Settlements queued before `close()` are sent
    /// first. To drain work, cancel consumers and finish/ack in-flight deliveries before calling this.
    public func close() async {
        await withCheckedContinuation { continuation in
            mailbox.enqueue(.close(continuation))
        }
    }
}

