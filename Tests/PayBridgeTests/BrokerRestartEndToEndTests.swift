import AMQP
import BrokerTestKit
import Foundation
@testable import PayBridge
import PayBridgeContract
import Testing

/// The whole (single-node) broker restarts under load (`rabbitmqctl stop_app` / `start_app`) while
/// a worker serves a backlog. Every command gets its outcome, nothing is lost, and the same worker is still serving
/// afterwards. The outcomes are collected in a durable quorum queue of the test, so the restart cannot lose them
/// on the test's side either.
@Suite(.timeLimit(.minutes(5))) struct BrokerRestartEndToEndTests {
    static let commands = 120

    @Test func everyCommandGetsItsOutcomeAcrossABrokerRestart() async throws {
        try await EndToEnd.run(recordEvents: false) { world in
            let outcomes = "e2e.restart.outcomes"
            _ = try await world.client.declare(AMQPQueue(outcomes, kind: .quorum))
            try await world.client.bind(queue: outcomes, exchange: Topology.outcomesExchange, routingKey: "#")
            var configuration = try world.configuration()
            configuration.prefetch = 20
            configuration.reconcileSchedule = .off  // only the commands' own outcomes in this count
            try await world.withPayBridge(configuration) { runtime in
                // Slow the provider down so the backlog is still being worked off when the broker stops.
                world.sandbox.addFault(.init(provider: "amanpay", operation: "purchase", latencyMs: 400))
                var sent: [String] = []
                for index in 0..<Self.commands {
                    let id = "restart-\(index)-\(UUID().uuidString.prefix(6).lowercased())"
                    sent.append(try await world.send(.amanpayPurchase, id: id, data: purchaseData("pay-\(id)")))
                }
                // Mid-load: the broker application stops (every connection drops) and starts again.
                try await Self.waitUntil("some outcomes are out") {
                    try await Self.depth(world, outcomes) >= 10
                }
                #expect(try await Self.depth(world, outcomes) < Self.commands / 2, "the broker stops mid-load")
                #expect(try await RabbitMQCtl.run("stop_app") == 0)
                #expect(try await RabbitMQCtl.run("start_app") == 0)
                try await RabbitMQCtl.run("await_startup")

                // Every command's response arrives (the client and the worker reconnect by themselves).
                let received = try await OutcomeQueueCollector.collect(
                    world.client, outcomes, commandIds: Set(sent))
                #expect(received.isSuperset(of: Set(sent)), "\(Set(sent).subtracting(received).count) lost")
                // The same runtime still serves, and says it is ready.
                try await Self.waitUntil("the worker is ready again") { runtime.readiness.check().ready }
                let after = try await world.send(.amanpayPurchase, data: purchaseData("after-restart"))
                let more = try await OutcomeQueueCollector.collect(world.client, outcomes, commandIds: [after])
                #expect(more.contains(after))
            }
        }
    }

    /// Messages waiting in `queue`, through a connection that may be reconnecting.
    static func depth(_ world: EndToEnd, _ queue: String) async throws -> Int {
        Int(try await world.client.declare(AMQPQueue(queue, kind: .quorum, passive: true)).messageCount)
    }

    /// Polls `condition` (bounded: 60 s), tolerating a reconnecting connection.
    static func waitUntil(_ what: String, _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if (try? await condition()) == true { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TimeoutError(what: "\(what): not within 60 s")
    }
}
