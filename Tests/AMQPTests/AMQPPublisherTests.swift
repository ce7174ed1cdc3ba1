import AMQP
import BrokerTestKit
import Foundation
import Testing

@Suite(.timeLimit(.minutes(2))) struct AMQPPublisherTests {
    @Test func tenThousandConfirmedPublishesInFlightAllArrive() async throws {
        try await BrokerTestSupport.withConnection { connection in
            let queue = BrokerTestSupport.uniqueName("confirms")
            try await connection.declare(AMQPQueue(queue, durable: false, autoDelete: false))
            let total = 10_000
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<total {
                    group.addTask {
                        try await connection.publish("m\(index)", exchange: "", routingKey: queue)
                    }
                }
                try await group.waitForAll()
            }
            let state = try await connection.declare(AMQPQueue(queue, passive: true))
            #expect(state.messageCount == UInt32(total))
            #expect(try await connection.deleteQueue(queue) == UInt32(total))
        }
    }

    /// Runs of publishes and acks are held in the socket's send buffer and written at the end of each run; a run
    /// left held would never leave. One publish at a time, each waiting for its confirm, is the case a forgotten
    /// release stalls: the first confirm never comes (its timeout fails the test).
    @Test func publishesOneAtATimeAreNotHeldBack() async throws {
        try await BrokerTestSupport.withConnection { connection in
            let queue = BrokerTestSupport.uniqueName("one-at-a-time")
            try await connection.declare(AMQPQueue(queue, durable: false, autoDelete: false))
            let consumer = try await connection.consume(queue: queue, prefetch: 10)
            var deliveries = consumer.makeAsyncIterator()
            let started = ContinuousClock.now
            for index in 0..<20 {
                try await connection.publish("m\(index)", exchange: "", routingKey: queue, confirmTimeout: .seconds(5))
                let delivery = try #require(try await deliveries.next())
                #expect(delivery.bodyString == "m\(index)")
                try await delivery.ack()
            }
            #expect(ContinuousClock.now - started < .seconds(2))
            await consumer.cancel()
            #expect(try await connection.deleteQueue(queue) == 0)
        }
    }

    @Test func unroutableMandatoryPublishFailsWithUnroutable() async throws {
        try await BrokerTestSupport.withConnection { connection in
            let exchange = BrokerTestSupport.uniqueName("nowhere")
            try await connection.declare(AMQPExchange(exchange, type: .direct, durable: false, autoDelete: false))
            do {
                try await connection.publish("lost?", exchange: exchange, routingKey: "no.such.key", mandatory: true)
                Issue.record("mandatory publish to an unbound key succeeded")
            } catch let error as AMQPError {
                #expect(error.code == .unroutable)
                #expect(error.replyCode == 312)
            }
            // Without mandatory the broker confirms and drops it.
            try await connection.publish("dropped", exchange: exchange, routingKey: "no.such.key")
            // Interleaved: a routable mandatory publish next to unroutable ones is matched to the right caller.
            let queue = BrokerTestSupport.uniqueName("routable")
            try await connection.declare(AMQPQueue(queue, durable: false, autoDelete: true))
            try await connection.bind(queue: queue, exchange: exchange, routingKey: "yes")
            let good = Task { try await connection.publish("ok", exchange: exchange, routingKey: "yes", mandatory: true) }
            let bad = Task { try await connection.publish("ko", exchange: exchange, routingKey: "no", mandatory: true) }
            try await good.value
            await #expect(throws: AMQPError.self) { try await bad.value }
            try await connection.deleteExchange(exchange)
        }
    }

    @Test func publishToMissingExchangeFailsWith404AndPublishingContinues() async throws {
        try await BrokerTestSupport.withConnection { connection in
            do {
                try await connection.publish("x", exchange: BrokerTestSupport.uniqueName("absent"), routingKey: "k")
                Issue.record("publish to a missing exchange succeeded")
            } catch let error as AMQPError {
                #expect(error.code == .channelClosed)
                #expect(error.replyCode == 404)
            }
            let queue = BrokerTestSupport.uniqueName("after-404")
            try await connection.declare(AMQPQueue(queue, durable: false, autoDelete: true))
            try await connection.publish("fine", exchange: "", routingKey: queue)
            #expect(try await connection.declare(AMQPQueue(queue, passive: true)).messageCount == 1)
        }
    }

    /// A nack can belong to the channel rather than the message (RabbitMQ 3.10 keeps a quorum queue's leader per
    /// channel, and a channel opened during a leader election can nack until the old leader returns), so after a
    /// nack the publishing channel is replaced once nothing waits for a confirm on it; publishing goes on, with
    /// confirm sequence numbers starting again at 1 on the new channel.
    @Test func aNackedPublishIsFollowedByAFreshPublishingChannel() async throws {
        let name = "nack-\(UUID().uuidString.prefix(8))"
        try await BrokerTestSupport.withConnection(name: name) { connection in
            let full = BrokerTestSupport.uniqueName("full")
            try await connection.declare(AMQPQueue(full, durable: false, autoDelete: false,
                                                   arguments: ["x-max-length": .int32(1),
                                                               "x-overflow": .string("reject-publish")]))
            let other = BrokerTestSupport.uniqueName("other")
            try await connection.declare(AMQPQueue(other, durable: false, autoDelete: false))
            try await connection.publish("fits", exchange: "", routingKey: full)
            let before = try #require(try await Self.publishingChannelProcess(connection: "test-\(name)"))

            do {
                try await connection.publish("over the limit", exchange: "", routingKey: full)
                Issue.record("a publish past x-max-length with reject-publish was confirmed")
            } catch let error as AMQPError {
                #expect(error.code == .publishNacked)
            }
            for index in 0..<3 {
                try await connection.publish("after \(index)", exchange: "", routingKey: other)
            }
            let after = try #require(try await Self.publishingChannelProcess(connection: "test-\(name)"))
            #expect(after != before, "the nacked channel \(before) was replaced")

            let results = await connection.publish(batch: [
                AMQPMessage(body: Array("still over".utf8), exchange: "", routingKey: full),
                AMQPMessage(body: Array("fine".utf8), exchange: "", routingKey: other),
            ])
            #expect(results.count == 2)
            #expect((try? results[0].get()) == nil, "the full queue still refuses")
            #expect((try? results[1].get()) != nil, "the other message in the same batch is confirmed")
            try await connection.publish("last", exchange: "", routingKey: other)
            #expect(try await connection.deleteQueue(other) == 5)
            #expect(try await connection.deleteQueue(full) == 1)
        }
    }

    /// The Erlang process of channel 1 (publishing) of the connection named `name`, from `rabbitmqctl`.
    private static func publishingChannelProcess(connection name: String) async throws -> String? {
        guard let connections = try await RabbitMQCtl.output("list_connections", "--no-table-headers", "name",
                                                             "client_properties"),
              let line = connections.split(separator: "\n").first(where: { $0.contains("\"\(name)\"") || $0.contains("<<\"\(name)\">>") }),
              let connectionName = line.split(separator: "\t").first,
              let channels = try await RabbitMQCtl.output("list_channels", "--no-table-headers", "name", "pid")
        else { return nil }
        let channel = channels.split(separator: "\n").first { $0.hasPrefix("\(connectionName) (1)\t") }
        return channel?.split(separator: "\t").last.map(String.init)
    }

    @Test func batchPublishConfirmsEachMessageWithItsOwnResult() async throws {
        try await BrokerTestSupport.withConnection { connection in
            let exchange = BrokerTestSupport.uniqueName("batch")
            let queue = BrokerTestSupport.uniqueName("batch-q")
            try await connection.declare(AMQPExchange(exchange, type: .direct, durable: false, autoDelete: false))
            try await connection.declare(AMQPQueue(queue, durable: false, autoDelete: true))
            try await connection.bind(queue: queue, exchange: exchange, routingKey: "ok")
            var batch = (0..<1_000).map {
                AMQPMessage(body: Array("m\($0)".utf8), exchange: exchange, routingKey: "ok", mandatory: true,
                            properties: .init(messageId: "\($0)"))
            }
            batch[500] = AMQPMessage(body: Array("lost".utf8), exchange: exchange, routingKey: "nowhere", mandatory: true)
            let results = await connection.publish(batch: batch)
            #expect(results.count == 1_000)
            for (index, result) in results.enumerated() {
                switch result {
                case .success: #expect(index != 500)
                case .failure(let error):
                    #expect(index == 500)
                    #expect(error.code == .unroutable)
                }
            }
            #expect(try await connection.declare(AMQPQueue(queue, passive: true)).messageCount == 999)
            #expect(await connection.publish(batch: []).isEmpty)
            try await connection.deleteExchange(exchange)
        }
    }

    /// Properties that cannot fit one frame: librabbitmq would send the method frame, then fail to
    /// encode the header ("table too large for buffer") and the connection would be torn down. The publish fails
    /// with `.propertiesTooLarge` before anything is sent, and the connection carries on: a delivery taken before
    /// can still be acked (a reconnect would make it stale), and the next publish goes through.
    @Test func propertiesTooLargeForAFrameFailThatPublishAndKeepTheConnection() async throws {
        try await BrokerTestSupport.withConnection { connection in
            let queue = BrokerTestSupport.uniqueName("too-large")
            try await connection.declare(AMQPQueue(queue, durable: false, autoDelete: false))
            try await connection.publish("before", exchange: "", routingKey: queue)
            let consumer = try await connection.consume(queue: queue, prefetch: 1)
            var deliveries = consumer.makeAsyncIterator()
            let before = try #require(try await deliveries.next())

            let headers: AMQPTable = ["filler": .string(String(repeating: "f", count: 131_072))]
            do {
                try await connection.publish("too large", exchange: "", routingKey: queue,
                                             properties: AMQPProperties(headers: headers))
                Issue.record("a publish whose headers exceed the frame succeeded")
            } catch let error as AMQPError {
                #expect(error.code == .propertiesTooLarge, "\(error)")
                #expect(!error.isRetryable)
            }
            let batch = await connection.publish(batch: [
                AMQPMessage(body: Array("too large".utf8), exchange: "", routingKey: queue,
                            properties: AMQPProperties(headers: headers)),
                AMQPMessage(body: Array("after".utf8), exchange: "", routingKey: queue),
            ])
            #expect((try? batch[0].get()) == nil)
            if case .failure(let error) = batch[0] { #expect(error.code == .propertiesTooLarge) }
            #expect((try? batch[1].get()) != nil, "the next message of the batch is published")

            try await before.ack()  // .staleDelivery if the connection had been replaced
            let after = try #require(try await deliveries.next())
            #expect(after.bodyString == "after")
            try await after.ack()
            await consumer.cancel()
            #expect(try await connection.deleteQueue(queue) == 0)
        }
    }
}
