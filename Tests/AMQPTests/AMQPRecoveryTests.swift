import AMQP
import BrokerTestKit
import Foundation
import Logging
import Synchronization
import Testing

/// Recovery scenarios. They run in their own vhost so `close_all_connections` never touches other tests.
@Suite(.serialized, .timeLimit(.minutes(3))) struct AMQPRecoveryTests {
    static let vhost = "paybridge-test-recovery"

    static func prepareVhost() async throws {
        try await BrokerTestSupport.rabbitmqctl("add_vhost", vhost)  // exits non-zero when it exists: fine
        let status = try await BrokerTestSupport.rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
        #expect(status == 0, "rabbitmqctl set_permissions failed: is rabbitmqctl on PATH and the broker local?")
    }

    static func connect(_ name: String, heartbeat: Duration = .seconds(10)) async throws -> AMQPConnection {
        var configuration = try BrokerTestSupport.configuration(name: name, heartbeat: heartbeat)
        configuration.virtualHost = vhost
        return try await AMQPConnection.connect(configuration, logger: Logger(label: "test.recovery"))
    }

    /// Connects through a ``TCPRelay`` the test can cut or freeze; the caller stops the relay.
    static func connectThroughRelay(_ name: String) async throws -> (AMQPConnection, TCPRelay) {
        var configuration = try BrokerTestSupport.configuration(name: name)
        configuration.virtualHost = vhost
        let relay = try TCPRelay(targetPort: UInt16(configuration.port))
        configuration.port = Int(relay.port)
        do {
            return (try await AMQPConnection.connect(configuration, logger: Logger(label: "test.recovery")), relay)
        } catch {
            relay.stop()
            throw error
        }
    }

    static func closeAllConnections() async throws {
        let status = try await BrokerTestSupport.rabbitmqctl("close_all_connections", "--vhost", vhost, "recovery test")
        #expect(status == 0)
    }

    /// Waits for the next `.reconnected` event.
    static func nextReconnect(_ connection: AMQPConnection) async -> Bool {
        for await event in connection.events {
            if case .reconnected = event { return true }
        }
        return false
    }

    @Test func closeAllConnectionsMidStreamLosesNoMessage() async throws {
        try await Self.prepareVhost()
        let publisher = try await Self.connect("recovery-publisher")
        let consumerConnection = try await Self.connect("recovery-consumer")
        let queue = BrokerTestSupport.uniqueName("recovery")
        try await publisher.declare(AMQPQueue(queue, durable: true))
        let consumer = try await consumerConnection.consume(queue: queue, prefetch: 200)
        let total = 5_000
        let published = PublishCounter()
        let publisherReconnected = Task { await Self.nextReconnect(publisher) }
        let consumerReconnected = Task { await Self.nextReconnect(consumerConnection) }

        let received = try await withThrowingTaskGroup(of: Set<String>?.self) { group in
            group.addTask {
                var seen = Set<String>()
                for try await delivery in consumer {
                    seen.insert(delivery.bodyString)
                    do {
                        try await delivery.ack()
                    } catch let error as AMQPError where error.code == .staleDelivery {
                        // From the dropped connection: the broker redelivers it; counted once by the set.
                    }
                    if seen.count == total { return seen }
                }
                return seen
            }
            group.addTask {
                try await withThrowingTaskGroup(of: Void.self) { publishers in
                    for worker in 0..<50 {
                        publishers.addTask {
                            for index in stride(from: worker, to: total, by: 50) {
                                while true {
                                    do {
                                        try await publisher.publish(
                                            "message-\(index)", exchange: "", routingKey: queue,
                                            properties: .init(persistent: true, messageId: "\(index)"))
                                        break
                                    } catch let error as AMQPError where error.isRetryable {
                                        continue  // not confirmed before the drop: publish again
                                    }
                                }
                                if published.increment() == total / 3 {
                                    try await Self.closeAllConnections()
                                }
                            }
                        }
                    }
                    try await publishers.waitForAll()
                }
                return nil
            }
            var result = Set<String>()
            while let next = try await group.next() {
                if let seen = next { result = seen }
            }
            return result
        }
        #expect(received.count == total)
        #expect(received == Set((0..<total).map { "message-\($0)" }))
        #expect(await publisherReconnected.value)
        #expect(await consumerReconnected.value)
        try await publisher.deleteQueue(queue)
        await publisher.close()
        await consumerConnection.close()
    }

    @Test func settlementFromADroppedConnectionIsNeverSentOnTheNewOne() async throws {
        try await Self.prepareVhost()
        let connection = try await Self.connect("stale-ack")
        let queue = BrokerTestSupport.uniqueName("stale")
        try await connection.declare(AMQPQueue(queue, durable: true))
        try await connection.publish("once", exchange: "", routingKey: queue, properties: .init(persistent: true))
        let consumer = try await connection.consume(queue: queue, prefetch: 1)
        var iterator = consumer.makeAsyncIterator()
        let first = try #require(try await iterator.next())
        let reconnected = Task { await Self.nextReconnect(connection) }
        try await Self.closeAllConnections()
        #expect(await reconnected.value)
        do {
            try await first.ack()
            Issue.record("ack of a delivery from the dropped connection was sent")
        } catch let error as AMQPError {
            #expect(error.code == .staleDelivery)
        }
        let again = try #require(try await iterator.next())
        #expect(again.bodyString == "once")
        #expect(again.redelivered)
        try await again.ack()
        try await connection.deleteQueue(queue)
        await connection.close()
    }

    @Test func publishWithAConfirmTimeoutFailsWhileTheBrokerIsUnreachableAndWorksAfterRecovery() async throws {
        try await Self.prepareVhost()
        let (connection, relay) = try await Self.connectThroughRelay("confirm-timeout")
        defer { relay.stop() }
        let queue = BrokerTestSupport.uniqueName("unreachable")
        try await connection.declare(AMQPQueue(queue, durable: true))
        try await connection.publish("before", exchange: "", routingKey: queue, confirmTimeout: .seconds(5))

        let disconnected = Task {
            for await event in connection.events { if case .disconnected = event { return true } }
            return false
        }
        relay.cut()
        #expect(await disconnected.value)
        // Waiting for the reconnect, not sent: fails with .timeout at the deadline (a publish without a timeout
        // would wait for the reconnect).
        let started = ContinuousClock.now
        do {
            try await connection.publish("during", exchange: "", routingKey: queue, confirmTimeout: .milliseconds(500))
            Issue.record("a publish with the broker unreachable was confirmed")
        } catch let error as AMQPError {
            #expect(error.code == .timeout)
            #expect(error.isRetryable)
        }
        let waited = ContinuousClock.now - started
        #expect(waited >= .milliseconds(500) && waited < .seconds(3), "failed at its deadline, not before (\(waited))")
        let batch = await connection.publish(
            batch: [AMQPMessage(body: Array("during-batch".utf8), exchange: "", routingKey: queue)],
            confirmTimeout: .milliseconds(200))
        #expect(batch.count == 1)
        if case .failure(let error) = batch[0] { #expect(error.code == .timeout) } else { Issue.record("confirmed") }

        let reconnected = Task { await Self.nextReconnect(connection) }
        try relay.restore()
        #expect(await reconnected.value)
        try await connection.publish("after", exchange: "", routingKey: queue, confirmTimeout: .seconds(5))
        // The queue holds exactly what was confirmed: the timed-out publishes were dropped unsent.
        let state = try await connection.declare(AMQPQueue(queue, durable: true))
        #expect(state.messageCount == 2)
        try await connection.deleteQueue(queue)
        await connection.close()
    }

    @Test func publishWithAConfirmTimeoutStopsWaitingForAConfirmThatDoesNotComeAndIgnoresItLater() async throws {
        try await Self.prepareVhost()
        let (connection, relay) = try await Self.connectThroughRelay("late-confirm")
        defer { relay.stop() }
        let queue = BrokerTestSupport.uniqueName("late-confirm")
        try await connection.declare(AMQPQueue(queue, durable: true))

        relay.freeze()  // the connection stays up; the message is sent but its confirm is held back
        do {
            try await connection.publish("late", exchange: "", routingKey: queue, confirmTimeout: .milliseconds(300))
            Issue.record("confirmed while the relay held everything back")
        } catch let error as AMQPError {
            #expect(error.code == .timeout)
            #expect(error.message.contains("may still deliver"))
        }
        relay.thaw()
        // The late confirm arrives and is ignored; the connection carries on and the message did reach the queue.
        try await connection.publish("next", exchange: "", routingKey: queue, confirmTimeout: .seconds(5))
        let state = try await connection.declare(AMQPQueue(queue, durable: true))
        #expect(state.messageCount == 2)
        try await connection.deleteQueue(queue)
        await connection.close()
    }

    @Test func idleConnectionSurvivesSeveralHeartbeatIntervals() async throws {
        try await Self.prepareVhost()
        let connection = try await Self.connect("idle-heartbeat", heartbeat: .seconds(1))
        let queue = BrokerTestSupport.uniqueName("idle")
        try await connection.declare(AMQPQueue(queue, durable: false, autoDelete: true))
        let consumer = try await connection.consume(queue: queue)
        let disconnects = Mutex<[AMQPConnectionEvent]>([])
        let watcher = Task {
            for await event in connection.events { disconnects.withLock { $0.append(event) } }
        }
        // The behaviour under test is idleness itself: nothing happens on the connection for 4 heartbeat
        // intervals (the broker drops a peer after 2 missed ones).
        try await Task.sleep(for: .seconds(4))
        try await connection.publish("still alive", exchange: "", routingKey: queue)
        #expect(try await collect(consumer, count: 1).first?.bodyString == "still alive")
        #expect(disconnects.withLock { $0.isEmpty })
        await connection.close()
        watcher.cancel()
    }
}

/// Counts confirmed publishes across publisher tasks.
final class PublishCounter: Sendable {
    private let value = Atomic<Int>(0)
    func increment() -> Int { value.add(1, ordering: .relaxed).newValue }
}
