import AMQP
import BrokerTestKit
import Foundation
import Logging
import Testing

/// Several nodes in one configuration, against the one local broker: a closed port stands for a dead node, and two
/// ``TCPRelay``s in front of the broker stand for two nodes of a cluster, one of which dies for good.
@Suite(.serialized, .timeLimit(.minutes(2))) struct AMQPNodeFailoverTests {
    static let logger = Logger(label: "test.amqp.nodes")

    @Test func aClosedFirstNodeIsPassedOverForTheNextInTheList() async throws {
        let broker = try AMQPConfiguration(url: BrokerTestSupport.url)
        let vhost = broker.virtualHost.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
        var configuration = try AMQPConfiguration(
            url: "amqp://guest:guest@127.0.0.1:1/\(vhost),\(BrokerTestSupport.url)")
        configuration.nodeOrder = .asListed  // the closed port first, every time
        configuration.connectionName = "test-nodes-closed-first"
        let connection = try await AMQPConnection.connect(configuration, logger: Self.logger)
        #expect(connection.currentNode == broker.endpoint)
        let queue = BrokerTestSupport.uniqueName("nodes")
        try await connection.declare(AMQPQueue(queue, durable: false, autoDelete: false))
        try await connection.publish("on the second node", exchange: "", routingKey: queue)
        let consumer = try await connection.consume(queue: queue, prefetch: 1)
        #expect(try await collect(consumer, count: 1).map(\.bodyString) == ["on the second node"])
        await consumer.cancel()
        try await connection.deleteQueue(queue)
        await connection.close()
    }

    @Test func whenNoNodeAcceptsTheErrorNamesEveryNode() async throws {
        var configuration = try AMQPConfiguration(
            url: "amqp://guest:guest@127.0.0.1:1/%2F,amqp://guest:guest@127.0.0.1:2/%2F")
        configuration.connectionName = "test-nodes-none"
        let error = await #expect(throws: AMQPError.self) {
            let connection = try await AMQPConnection.connect(configuration, logger: Self.logger)
            await connection.close()
        }
        #expect(error?.code == .connectionFailed)
        #expect(error?.message.contains("127.0.0.1:1: connectionFailed") == true)
        #expect(error?.message.contains("127.0.0.1:2: connectionFailed") == true)
        #expect(error.map { "\($0)" }?.contains("guest:guest") == false)
    }

    @Test func recoveryMovesOnToTheOtherNodeWithoutWaitingForTheDeadOne() async throws {
        var configuration = try BrokerTestSupport.configuration(name: "nodes-failover")
        let nodeA = try TCPRelay(targetPort: UInt16(configuration.port))
        let nodeB = try TCPRelay(targetPort: UInt16(configuration.port))
        defer {
            nodeA.stop()
            nodeB.stop()
        }
        configuration.port = Int(nodeA.port)
        configuration.otherNodes = [AMQPNode(host: configuration.host, port: Int(nodeB.port), user: configuration.user,
                                             password: configuration.password)]
        configuration.nodeOrder = .asListed
        let connection = try await AMQPConnection.connect(configuration, logger: Self.logger)
        #expect(connection.currentNode == "\(configuration.host):\(nodeA.port)")

        let queue = BrokerTestSupport.uniqueName("failover")
        try await connection.declare(AMQPQueue(queue, durable: false, autoDelete: false))
        let consumer = try await connection.consume(queue: queue, prefetch: 10)
        var deliveries = consumer.makeAsyncIterator()
        try await connection.publish("before", exchange: "", routingKey: queue)
        let before = try #require(try await deliveries.next())
        #expect(before.bodyString == "before")
        try await before.ack()

        let reconnected = Task { await Self.reconnectAttempts(of: connection, within: .seconds(15)) }
        let cut = ContinuousClock.now
        nodeA.cut()  // node A dies and stays dead: every attempt to it is refused
        let attempts = await reconnected.value
        let took = ContinuousClock.now - cut
        #expect(attempts == 1, "the first reconnect attempt went to node B, not to the dead node A")
        #expect(connection.currentNode == "\(configuration.host):\(nodeB.port)")
        // The first attempt waits at most the policy's first bound (50 ms); well under a second even on a busy machine.
        #expect(took < .seconds(5), "recovered in \(took)")

        // The consumer was resubscribed on node B: a message published now arrives.
        try await connection.publish("after", exchange: "", routingKey: queue)
        while let delivery = try await deliveries.next() {
            try? await delivery.ack()  // "before" again if its ack did not leave before the cut: stale, redelivered
            if delivery.bodyString == "after" { break }
        }
        await consumer.cancel()
        try await connection.deleteQueue(queue)
        await connection.close()
    }

    /// The `attempts` of the connection's next `.reconnected` event, or `nil` when none comes within `limit`.
    static func reconnectAttempts(of connection: AMQPConnection, within limit: Duration) async -> Int? {
        await withTaskGroup(of: Int?.self) { group in
            group.addTask {
                for await event in connection.events {
                    if case .reconnected(let attempts) = event { return attempts }
                }
                return nil
            }
            group.addTask {
                try? await Task.sleep(for: limit)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }
}
