import AMQP
import Testing

@Suite(.timeLimit(.minutes(2))) struct AMQPRoundTripTests {
    @Test func roundTripCarriesAllPropertiesAndNestedHeaders() async throws {
        try await BrokerTestSupport.withConnection { connection in
            let exchange = BrokerTestSupport.uniqueName("rt.x")
            let queue = BrokerTestSupport.uniqueName("rt.q")
            try await connection.declare(AMQPExchange(exchange, type: .topic, durable: false, autoDelete: true))
            try await connection.declare(AMQPQueue(queue, durable: false, autoDelete: true))
            try await connection.bind(queue: queue, exchange: exchange, routingKey: "payments.#")
            let consumer = try await connection.consume(queue: queue, prefetch: 10)

            let headers: AMQPTable = [
                "x-attempt": .int32(3),
                "flag": .bool(true),
                "big": .int64(9_000_000_000),
                "amount": .string("250.50"),
                "nested": .table(["inner": .string("value"), "list": .array([.int16(1), .string("two")])]),
                "list": .array([.table(["k": .bool(false)]), .double(1.5)]),
                "raw": .bytes([0, 1, 2, 255]),
                "when": .timestamp(1_700_000_000),
            ]
            let properties = AMQPProperties(
                contentType: "application/cloudevents+json", contentEncoding: "identity", headers: headers,
                persistent: true, priority: 4, correlationId: "cmd-1", replyTo: "reply.q", expiration: "60000",
                messageId: "evt-1", timestamp: 1_700_000_123, type: "paybridge.payment.response.v1",
                userId: "guest", appId: "paybridge")
            try await connection.publish("{\"amount\":\"250.50\"}", exchange: exchange,
                                         routingKey: "payments.amanpay.purchase", mandatory: true,
                                         properties: properties)

            let delivery = try #require(try await collect(consumer, count: 1).first)
            #expect(delivery.bodyString == "{\"amount\":\"250.50\"}")
            #expect(delivery.properties == properties)
            #expect(delivery.exchange == exchange)
            #expect(delivery.routingKey == "payments.amanpay.purchase")
            #expect(delivery.redelivered == false)
            #expect(delivery.consumerTag == consumer.consumerTag)
        }
    }

    @Test func passiveDeclareOfMissingQueueIs404AndConnectionStaysUsable() async throws {
        try await BrokerTestSupport.withConnection { connection in
            let missing = BrokerTestSupport.uniqueName("missing")
            do {
                try await connection.declare(AMQPQueue(missing, passive: true))
                Issue.record("passive declare of a missing queue succeeded")
            } catch let error as AMQPError {
                #expect(error.code == .channelClosed)
                #expect(error.replyCode == 404)
                #expect(error.description.contains(missing))
            }
            let queue = BrokerTestSupport.uniqueName("after404")
            let state = try await connection.declare(AMQPQueue(queue, durable: false, autoDelete: true))
            #expect(state.messageCount == 0)
            try await connection.publish("still works", exchange: "", routingKey: queue)
            let consumer = try await connection.consume(queue: queue)
            #expect(try await collect(consumer, count: 1).first?.bodyString == "still works")
        }
    }

    @Test func mismatchedRedeclareIs406() async throws {
        try await BrokerTestSupport.withConnection { connection in
            let queue = BrokerTestSupport.uniqueName("mismatch")
            try await connection.declare(AMQPQueue(queue, durable: false, autoDelete: true))
            await #expect(throws: AMQPError.self) {
                try await connection.declare(AMQPQueue(queue, durable: true, autoDelete: true))
            }
            try await connection.deleteQueue(queue)
        }
    }

    @Test func quorumQueueWithDeadLetteringAndDeliveryLimitDeclares() async throws {
        try await BrokerTestSupport.withConnection { connection in
            let queue = BrokerTestSupport.uniqueName("quorum")
            let state = try await connection.declare(AMQPQueue(
                queue, kind: .quorum, deadLetterExchange: "", deadLetterRoutingKey: queue + ".dead",
                deliveryLimit: 3, messageTTLMilliseconds: 60_000))
            #expect(state.name == queue)
            let passive = try await connection.declare(AMQPQueue(queue, passive: true))
            #expect(passive.messageCount == 0)
            try await connection.publish("q", exchange: "", routingKey: queue, properties: .init(persistent: true))
            let consumer = try await connection.consume(queue: queue)
            #expect(try await collect(consumer, count: 1).first?.bodyString == "q")
            await consumer.cancel()
            try await connection.deleteQueue(queue)
        }
    }
}
