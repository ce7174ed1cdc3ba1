public import AMQP
import Foundation
public import Logging
import PayBridgeContract
import PayBridgeTopology

/// Reads and re-drives the dead-letter queue `payments.dead` (`paybridge dead-letters list|replay`).
///
/// AMQP 0-9-1 has no "peek": listing consumes the messages with manual acknowledgement, holds all of them unacked
/// (so none is delivered twice), then returns every one with `basic.nack(requeue: true)`. Nothing is lost: a
/// message is only ever acknowledged after its replayed copy was confirmed by the broker, and if this process
/// dies meanwhile, the broker requeues whatever it held.
///
/// Requeueing counts as a delivery on a quorum queue. `payments.dead` has no delivery limit on RabbitMQ 3.x; on
/// RabbitMQ 4.x (default limit 20) give it a policy with `delivery-limit: -1`, or listing it 20 times drops
/// messages.
public struct DeadLetterInspector: Sendable {
    /// Which dead letters to replay.
    public enum Selection: Sendable, Hashable {
        /// Every dead letter read (up to the limit).
        case all
        /// Those whose `message_id` or CloudEvent id is one of these.
        case ids(Set<String>)
    }

    /// The result of ``replay(_:limit:)``.
    public struct ReplayReport: Sendable {
        /// Republished to the provider's command queue through `payments.internal` (confirmed) and removed from the
        /// dead-letter queue, with the command's routing key (the type it runs as).
        public var replayed: [(deadLetter: DeadLetter, routingKey: String)]
        /// Selected but left in the dead-letter queue, with why.
        public var failed: [(deadLetter: DeadLetter, reason: String)]
        /// Requested ids that were not found among the messages read.
        public var notFound: [String]
    }

    /// The connection.
    public let connection: AMQPConnection
    /// The dead-letter queue; ``Topology/deadLetterQueue``.
    public var queue: String
    /// Where replays are published; ``Topology/internalExchange``: a replay is PayBridge's own message (it carries
    /// ``Topology/Headers/replayed`` and the original routing key, which the worker honours only on that route), so
    /// replaying takes the `paybridge` role's permissions, not a producer's.
    public var replayExchange: String
    /// The longest time spent collecting the messages the queue reported as ready.
    public var collectTimeout: Duration
    let logger: Logger

    /// - Parameters:
    ///   - connection: an open connection to the broker.
    ///   - collectTimeout: the longest time spent reading the queue, default 5 s.
    ///   - logger: debug output.
    public init(connection: AMQPConnection, collectTimeout: Duration = .seconds(5),
                logger: Logger = Logger(label: "paybridge.tools.dead-letters")) {
        self.connection = connection
        self.queue = Topology.deadLetterQueue
        self.replayExchange = Topology.internalExchange
        self.collectTimeout = collectTimeout
        self.logger = logger
    }

    /// Lists the dead letters without removing them.
    /// - Parameter limit: the most messages read (at most 65 535: one prefetch window).
    /// - Returns: the dead letters in queue order.
    /// - Throws: ``PayBridgeToolError`` when the queue does not exist; ``AMQPError``.
    public func list(limit: Int = 1000) async throws -> [DeadLetter] {
        let deliveries = try await fetch(limit: limit)
        for delivery in deliveries { try await delivery.nack(requeue: true) }
        try await awaitReady(atLeast: deliveries.count)
        return deliveries.map(Self.deadLetter)
    }

    /// Republishes dead letters to their provider's command queue through `payments.internal`, with their original
    /// routing key (``DeadLetter/replayRoutingKey``) in ``Topology/Headers/originalRoutingKey`` and without the attempt and dead-letter headers
    /// (``DeadLetter/replayHeaders``), marked replayed: a new first attempt with the same command id, status-first
    /// for creates.
    /// Each one is acknowledged (removed from the dead-letter queue) only after the broker confirmed its copy; the
    /// others stay where they were.
    /// - Parameters:
    ///   - selection: all, or some ids.
    ///   - limit: the most messages read.
    /// - Returns: what was replayed, what failed, and which ids were not found.
    /// - Throws: ``PayBridgeToolError`` when the queue does not exist; ``AMQPError``.
    public func replay(_ selection: Selection, limit: Int = 1000) async throws -> ReplayReport {
        let deliveries = try await fetch(limit: limit)
        var report = ReplayReport(replayed: [], failed: [], notFound: [])
        var found: Set<String> = []
        for delivery in deliveries {
            let deadLetter = Self.deadLetter(delivery)
            let selected: Bool
            switch selection {
            case .all: selected = true
            case .ids(let ids):
                let hits = ids.filter { deadLetter.matches(id: $0) }
                found.formUnion(hits)
                selected = !hits.isEmpty
            }
            guard selected else {
                try await delivery.nack(requeue: true)
                continue
            }
            guard let routingKey = deadLetter.replayRoutingKey else {
                report.failed.append((deadLetter, "no original routing key and no known command type"))
                try await delivery.nack(requeue: true)
                continue
            }
            guard let queue = Topology.commandQueue(for: routingKey) else {
                report.failed.append((deadLetter, "'\(routingKey)' names no provider PayBridge knows"))
                try await delivery.nack(requeue: true)
                continue
            }
            var properties = deadLetter.properties
            var headers = deadLetter.replayHeaders
            headers[Topology.Headers.originalRoutingKey] = .string(routingKey)
            properties.headers = headers
            properties.persistent = true
            do {
                try await connection.publish(deadLetter.body, exchange: replayExchange, routingKey: queue,
                                             mandatory: true, properties: properties)
            } catch {
                let reason = (error as? AMQPError)?.code == .unroutable
                    ? "no queue is bound to \(replayExchange) for '\(queue)'" : "\(error)"
                report.failed.append((deadLetter, reason))
                try await delivery.nack(requeue: true)
                continue
            }
            try await delivery.ack()
            report.replayed.append((deadLetter, routingKey))
            logger.debug("dead letter replayed", metadata: ["command.id": "\(deadLetter.id ?? "-")",
                                                            "amqp.routing_key": "\(routingKey)"])
        }
        if case .ids(let ids) = selection { report.notFound = ids.subtracting(found).sorted() }
        try await awaitReady(atLeast: deliveries.count - report.replayed.count)
        return report
    }

    static func deadLetter(_ delivery: AMQPDelivery) -> DeadLetter {
        DeadLetter(routingKey: delivery.routingKey, properties: delivery.properties, body: delivery.body)
    }

    /// A nack has no reply, and the queue takes the message back asynchronously: wait (briefly, bounded) until the
    /// returned messages are ready again, so a listing right after this one sees them.
    private func awaitReady(atLeast count: Int) async throws {
        guard count > 0 else { return }
        let deadline = ContinuousClock.now + .seconds(2)
        while ContinuousClock.now < deadline {
            let state = try await connection.declare(AMQPQueue(queue, kind: .quorum, passive: true))
            if state.messageCount >= count { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        logger.debug("dead letters not all ready again yet (another consumer?)", metadata: ["amqp.queue": "\(queue)"])
    }

    /// Consumes up to `limit` ready messages and returns them unsettled; the consumer is cancelled.
    private func fetch(limit: Int) async throws -> [AMQPDelivery] {
        let state: AMQPQueueState
        do {
            state = try await connection.declare(AMQPQueue(queue, kind: .quorum, passive: true))
        } catch let error as AMQPError where error.code == .channelClosed && error.replyCode == 404 {
            throw PayBridgeToolError("the dead-letter queue \(queue) does not exist; run `paybridge topology` first",
                                     underlying: error)
        }
        let wanted = min(Int(state.messageCount), max(0, limit), Int(UInt16.max))
        guard wanted > 0 else { return [] }
        // prefetch = wanted: the broker sends exactly the messages we hold, never one twice.
        let consumer = try await connection.consume(queue: queue, prefetch: UInt16(wanted))
        let timeout = collectTimeout
        return try await withThrowingTaskGroup(of: [AMQPDelivery]?.self) { group in
            group.addTask {
                var deliveries: [AMQPDelivery] = []
                for try await delivery in consumer {
                    deliveries.append(delivery)
                    if deliveries.count == wanted { break }
                }
                return deliveries
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                await consumer.cancel()
                return nil
            }
            var deliveries: [AMQPDelivery] = []
            while let next = try await group.next() {
                if let next {
                    deliveries = next
                    group.cancelAll()
                }
            }
            await consumer.cancel()
            return deliveries
        }
    }
}
