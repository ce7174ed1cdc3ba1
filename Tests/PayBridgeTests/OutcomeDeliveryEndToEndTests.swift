import AMQP
import Foundation
@testable import PayBridge
import PayBridgeRules
import PayBridgeContract
import ProviderSandbox
import Testing

/// Every command ends in an outcome PayBridge chose: an outcome the broker refuses is retried while the
/// command waits (the provider is not called again), an event no queue is bound for is kept, and a pause never
/// pushes commands toward the queue's delivery limit.
@Suite(.timeLimit(.minutes(3))) struct OutcomeDeliveryEndToEndTests {
    static func fastConfiguration(_ world: EndToEnd) throws -> PayBridgeConfiguration {
        var configuration = try world.configuration()
        configuration.outcomeRetry = OutcomeRetry(initialDelay: .milliseconds(50), maximumDelay: .milliseconds(200))
        configuration.publishTimeout = .seconds(2)
        configuration.unroutedPollInterval = .milliseconds(100)
        return configuration
    }

    /// Waits (bounded) until `condition` holds; for state PayBridge exposes only by polling (metrics, readiness).
    static func eventually(_ what: String, within: Duration = .seconds(20), _ condition: () throws -> Bool)
        async throws
    {
        let deadline = ContinuousClock.now + within
        while try !condition() {
            guard ContinuousClock.now < deadline else { throw TimeoutError(what: what) }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    static func counter(_ metrics: PayBridgeMetrics, _ series: String) -> Double {
        for line in metrics.exposition().split(separator: "\n") where line.hasPrefix(series + " ") {
            return Double(line.dropFirst(series.count + 1)) ?? 0
        }
        return 0
    }

    static func deadLetterCount(_ world: EndToEnd) async throws -> UInt32 {
        try await world.client.declare(AMQPQueue(Topology.deadLetterQueue, kind: .quorum, passive: true)).messageCount
    }

    @Test func aMissingOutcomeExchangeHoldsTheCommandWithoutCallingTheProviderAgain() async throws {
        try await EndToEnd.run { world in
            let configuration = try Self.fastConfiguration(world)
            try await world.withPayBridge(configuration) { runtime in
                // A permissions mistake or an operator deleting the exchange: every event publish is refused (404).
                try await world.client.deleteExchange(Topology.outcomesExchange)
                let paymentId = "held-\(UUID().uuidString.prefix(8))"
                let id = try await world.send(.amanpayPurchase, data: purchaseData(paymentId))
                let failures = #"paybridge_outcome_publish_failures_total{reason="not_found"}"#
                try await Self.eventually("three refused publishes") {
                    Self.counter(runtime.metrics, failures) >= 3
                }
                #expect(!runtime.readiness.check().ready, "not ready while outcomes cannot be published")
                #expect(runtime.readiness.check().reasons.contains { $0.hasPrefix("outcomes:") })
                let calls = world.sandbox.receivedRequests().filter { $0.paymentId == paymentId }
                #expect(calls.count == 1, "the provider was called once, not once per refused publish: \(calls.count)")

                // The operator fixes the broker side: the same outcome is published, the command acked. (Declared
                // without the alternate exchange so that the event cannot slip into payments.unrouted before the
                // recorder's queue is bound again: until then it is returned and retried.)
                try await world.client.declare(AMQPExchange(Topology.outcomesExchange, type: .topic))
                try await world.events.start(on: world.client)
                let event = try await world.events.first(type: OutcomeEvents.responseType, commandId: id)
                #expect(event.status == "requires_action" || event.status == "processing")
                try await Self.eventually("ready again") { runtime.readiness.check().ready }
                #expect(world.sandbox.receivedRequests().filter { $0.paymentId == paymentId }.count == 1)
            }
            #expect(try await Self.deadLetterCount(world) == 0, "never dead-lettered by the delivery limit")
            let queue = try await world.client.declare(AMQPQueue(Topology.commandQueue(.amanpay), passive: true))
            #expect(queue.messageCount == 0, "acked once its outcome was confirmed")
        }
    }

    @Test func anEventNoQueueIsBoundForIsKeptInPaymentsUnroutedAndCounted() async throws {
        try await EndToEnd.run(recordEvents: false) { world in
            let configuration = try Self.fastConfiguration(world)
            try await world.withPayBridge(configuration) { runtime in
                // The history stream takes every event; without it no queue is bound for this one.
                try await world.client.deleteQueue(Topology.historyStream)
                let id = try await world.send(.amanpayPurchase, data: purchaseData("unrouted-\(UUID().uuidString.prefix(8))"))
                try await Self.eventually("the unrouted-events gauge counts it") {
                    Self.counter(runtime.metrics, "paybridge_unrouted_events") >= 1
                }
                let kept = try await ToolsTestBroker.receive(world.client, from: Topology.unroutedQueue)
                let event = try CloudEvent.parse(try #require(kept.first).body)
                #expect(event.type == OutcomeEvents.responseType)
                #expect(kept.first?.properties.correlationId == id)
                #expect(kept.first?.routingKey == "amanpay.purchase.response")
            }
        }
    }

    @Test func aLegacyOutcomesExchangeWithoutAlternateHoldsAnUnroutableEventUntilAQueueIsBound() async throws {
        try await EndToEnd.run(recordEvents: false) { world in
            // A deployment from before payments.unrouted: the exchange exists without the argument.
            try await world.client.deleteExchange(Topology.outcomesExchange)
            try await world.client.declare(AMQPExchange(Topology.outcomesExchange, type: .topic))
            let configuration = try Self.fastConfiguration(world)
            try await world.withPayBridge(configuration) { runtime in
                // The history stream takes every event; without it no queue is bound for this one.
                try await world.client.deleteQueue(Topology.historyStream)
                let paymentId = "legacy-\(UUID().uuidString.prefix(8))"
                let id = try await world.send(.amanpayPurchase, data: purchaseData(paymentId))
                let returned = #"paybridge_outcome_publish_failures_total{reason="unroutable"}"#
                try await Self.eventually("the broker returned the event") {
                    Self.counter(runtime.metrics, returned) >= 2
                }
                try await world.events.start(on: world.client)
                _ = try await world.events.first(type: OutcomeEvents.responseType, commandId: id)
                #expect(world.sandbox.receivedRequests().filter { $0.paymentId == paymentId }.count == 1)
            }
        }
    }

    @Test func pausesPutCommandsBackWithoutRunningThemIntoTheDeliveryLimit() async throws {
        // More configuration failures in a row than the queue's delivery limit allows deliveries: with a nack per
        // pause the broker would dead-letter the command (without PayBridge's reason) before the key is fixed.
        let failures = Topology.commandQueueDeliveryLimit + 5
        try await EndToEnd.run { world in
            var configuration = try Self.fastConfiguration(world)
            configuration.providerPause = (.milliseconds(10), .milliseconds(10))
            configuration.amanpay?.circuitBreaker = .init(failureThreshold: 1000)
            let paymentId = "pause-\(UUID().uuidString.prefix(8))"
            world.sandbox.addFault(SandboxFault(provider: "amanpay", operation: "purchase", paymentId: paymentId,
                                                times: failures, errorCode: "INVALID_API_KEY"))
            try await world.withPayBridge(configuration) { runtime in
                let id = try await world.send(.amanpayPurchase, data: purchaseData(paymentId))
                let event = try await world.events.first(type: OutcomeEvents.responseType, commandId: id,
                                                         timeout: .seconds(60))
                #expect(event.status == "requires_action" || event.status == "processing")
                let purchases = world.sandbox.receivedRequests().filter {
                    $0.paymentId == paymentId && $0.operation == "purchase"
                }
                #expect(purchases.count == failures + 1, "each pause put the command back; none was lost")
                #expect(Self.counter(runtime.metrics, #"paybridge_commands_total{provider="amanpay",outcome="put_back"}"#)
                        >= Double(failures))
            }
            #expect(try await Self.deadLetterCount(world) == 0)
        }
    }
}
