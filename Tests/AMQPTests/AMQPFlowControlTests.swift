import AMQP
import Testing

/// The broker's flow control (`connection.blocked` / `connection.unblocked`), raised for real: a memory alarm set
/// with `rabbitmqctl set_vm_memory_high_watermark`. The alarm blocks every publishing connection on the broker,
/// so this runs only because `make test` runs tests one at a time, and it always restores the watermark.
@Suite(.timeLimit(.minutes(2))) struct AMQPFlowControlTests {
    static let normalWatermark = "0.4"  // RabbitMQ's default

    /// RabbitMQ blocks a connection when it publishes during an alarm: it stops reading that connection (so the
    /// first message waits inside the broker, unconfirmed) and sends `connection.blocked`. From then on the client
    /// holds publishes back itself.
    @Test func aMemoryAlarmBlocksPublishesUntilItClearsAndPublishesWithATimeoutFailMeanwhile() async throws {
        try await BrokerTestSupport.withConnection { connection in
            let queue = BrokerTestSupport.uniqueName("flow-control")
            try await connection.declare(AMQPQueue(queue, durable: false, autoDelete: false))
            try await connection.publish("before", exchange: "", routingKey: queue)
            var events = connection.events.makeAsyncIterator()

            try #require(try await BrokerTestSupport.rabbitmqctl("set_vm_memory_high_watermark", "absolute", "1") == 0)
            do {
                // Sent before the client knows: the broker keeps it and does not confirm it while the alarm lasts.
                await #expect {
                    try await connection.publish("held by the broker", exchange: "", routingKey: queue,
                                                 confirmTimeout: .seconds(1))
                } throws: { ($0 as? AMQPError)?.code == .timeout }
                let blocked = try #require(await nextFlowEvent(&events))
                guard case .blocked(let reason) = blocked else {
                    Issue.record("expected .blocked, got \(blocked)")
                    throw CancellationError()
                }
                #expect(reason.lowercased().contains("memory"))

                // Blocked: the client does not send; with a timeout the publish fails at its deadline, unsent.
                let started = ContinuousClock.now
                await #expect {
                    try await connection.publish("never sent", exchange: "", routingKey: queue,
                                                 confirmTimeout: .milliseconds(300))
                } throws: { ($0 as? AMQPError)?.code == .timeout }
                #expect(ContinuousClock.now - started >= .milliseconds(300))
                // Without a timeout it waits for the alarm to clear.
                let waiting = Task { try await connection.publish("after", exchange: "", routingKey: queue) }

                try #require(try await BrokerTestSupport.rabbitmqctl(
                    "set_vm_memory_high_watermark", Self.normalWatermark) == 0)
                let unblocked = try #require(await nextFlowEvent(&events))
                guard case .unblocked = unblocked else {
                    Issue.record("expected .unblocked, got \(unblocked)")
                    throw CancellationError()
                }
                try await waiting.value
            } catch {
                try await BrokerTestSupport.rabbitmqctl("set_vm_memory_high_watermark", Self.normalWatermark)
                throw error
            }

            // The message the broker held was delivered after all (its late confirm was ignored); the one the
            // client held back and gave up on was never sent.
            let consumer = try await connection.consume(queue: queue, prefetch: 10)
            let received = try await collect(consumer, count: 3)
            #expect(received.map(\.bodyString) == ["before", "held by the broker", "after"])
            await consumer.cancel()
            #expect(try await connection.deleteQueue(queue) == 0)
        }
    }

    /// The next `.blocked` or `.unblocked` event (other events are skipped).
    func nextFlowEvent(_ events: inout AsyncStream<AMQPConnectionEvent>.AsyncIterator) async -> AMQPConnectionEvent? {
        while let event = await events.next() {
            switch event {
            case .blocked, .unblocked: return event
            default: continue
            }
        }
        return nil
    }
}
