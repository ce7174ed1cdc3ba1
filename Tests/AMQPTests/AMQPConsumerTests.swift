import AMQP
import Testing

@Suite(.timeLimit(.minutes(2))) struct AMQPConsumerTests {
    @Test func nackWithRequeueRedeliversMessage() async throws {
        try await BrokerTestSupport.withConnection { connection in
            let queue = BrokerTestSupport.uniqueName("nack")
            try await connection.declare(AMQPQueue(queue, durable: false, autoDelete: true))
            try await connection.publish("again", exchange: "", routingKey: queue)
            let consumer = try await connection.consume(queue: queue, prefetch: 1)
            var iterator = consumer.makeAsyncIterator()
            let first = try #require(try await iterator.next())
            #expect(first.redelivered == false)
            try await first.nack(requeue: true)
            let second = try #require(try await iterator.next())
            #expect(second.bodyString == "again")
            #expect(second.redelivered == true)
            try await second.ack()
        }
    }

    @Test func rejectWithoutRequeueDeadLettersWithReason() async throws {
        try await BrokerTestSupport.withConnection { connection in
            let dlx = BrokerTestSupport.uniqueName("dlx")
            let dead = BrokerTestSupport.uniqueName("dead")
            let work = BrokerTestSupport.uniqueName("work")
            try await connection.declare(AMQPExchange(dlx, type: .fanout, durable: false, autoDelete: false))
            try await connection.declare(AMQPQueue(dead, durable: false, autoDelete: false))
            try await connection.bind(queue: dead, exchange: dlx, routingKey: "")
            try await connection.declare(AMQPQueue(work, durable: false, autoDelete: false, deadLetterExchange: dlx))
            try await connection.publish("bad", exchange: "", routingKey: work, properties: .init(messageId: "m-1"))
            try await connection.publish("worse", exchange: "", routingKey: work, properties: .init(messageId: "m-2"))

            let consumer = try await connection.consume(queue: work, prefetch: 2)
            var iterator = consumer.makeAsyncIterator()
            try await #require(try await iterator.next()).reject(requeue: false)
            try await #require(try await iterator.next()).nack(requeue: false)
            await consumer.cancel()

            let deadConsumer = try await connection.consume(queue: dead)
            let deadLettered = try await collect(deadConsumer, count: 2)
            #expect(Set(deadLettered.map(\.bodyString)) == ["bad", "worse"])
            let death = try #require(deadLettered.first?.properties.headers?["x-death"])
            guard case .array(let entries) = death, case .table(let entry) = entries.first else {
                Issue.record("x-death header missing or malformed: \(death)")
                return
            }
            #expect(entry["reason"]?.stringValue == "rejected")
            #expect(entry["queue"]?.stringValue == work)
            try await connection.deleteQueue(work)
            try await connection.deleteQueue(dead)
            try await connection.deleteExchange(dlx)
        }
    }

    @Test func prefetchIsHonouredNeverMoreThanNUnacked() async throws {
        try await BrokerTestSupport.withConnection { connection in
            let queue = BrokerTestSupport.uniqueName("prefetch")
            try await connection.declare(AMQPQueue(queue, durable: false, autoDelete: true))
            for index in 0..<20 { try await connection.publish("p\(index)", exchange: "", routingKey: queue) }
            let consumer = try await connection.consume(queue: queue, prefetch: 5)
            var iterator = consumer.makeAsyncIterator()
            var held: [AMQPDelivery] = []
            for _ in 0..<5 { held.append(try #require(try await iterator.next())) }
            // With 5 unacked, the broker keeps the other 15 ready: the queue reports them as ready.
            let state = try await connection.declare(AMQPQueue(queue, passive: true))
            #expect(state.messageCount == 15)
            // Acking one lets exactly one more through.
            try await held.removeFirst().ack()
            held.append(try #require(try await iterator.next()))
            let after = try await connection.declare(AMQPQueue(queue, passive: true))
            #expect(after.messageCount == 14)
            for delivery in held { try await delivery.ack() }
        }
    }

    @Test func brokerCancellationIsSurfacedNotSwallowed() async throws {
        try await BrokerTestSupport.withConnection { connection in
            let queue = BrokerTestSupport.uniqueName("cancelled")
            try await connection.declare(AMQPQueue(queue, durable: false, autoDelete: false))
            let consumer = try await connection.consume(queue: queue)
            let other = try await BrokerTestSupport.connect(name: "deleter")
            try await other.deleteQueue(queue)
            await other.close()
            do {
                for try await _ in consumer {}
                Issue.record("consumer ended normally after its queue was deleted")
            } catch let error as AMQPError {
                #expect(error.code == .consumerCancelled)
            }
        }
    }

    @Test func clientCancelEndsTheSequenceAfterBufferedDeliveries() async throws {
        try await BrokerTestSupport.withConnection { connection in
            let queue = BrokerTestSupport.uniqueName("client-cancel")
            try await connection.declare(AMQPQueue(queue, durable: false, autoDelete: true))
            try await connection.publish("one", exchange: "", routingKey: queue)
            let consumer = try await connection.consume(queue: queue)
            var iterator = consumer.makeAsyncIterator()
            let first = try #require(try await iterator.next())
            await consumer.cancel()
            try await first.ack()
            #expect(try await iterator.next() == nil)
        }
    }
}
