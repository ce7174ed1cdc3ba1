import AMQP
import Foundation
import PayBridge
import PayBridgeContract
import PaymentVocabulary
import Testing
import PayBridgeTopology

@Suite(.timeLimit(.minutes(2)))
struct TopologyTests {
    @Test func declarationsCoverTheContract() throws {
        let declarations = BrokerSetup.declarations()
        #expect(declarations.exchanges.map(\.name) == [
            Topology.commandsExchange, Topology.unroutedExchange, Topology.outcomesExchange,
            Topology.retryReturnExchange, Topology.deadLetterExchange, Topology.internalExchange,
        ])
        #expect(declarations.exchanges.map(\.type) == [.topic, .fanout, .topic, .direct, .fanout, .direct])
        #expect(declarations.exchanges.allSatisfy { $0.durable && !$0.autoDelete })
        let outcomes = try #require(declarations.exchanges.first { $0.name == Topology.outcomesExchange })
        #expect(outcomes.arguments == ["alternate-exchange": .string(Topology.unroutedExchange)])
        // 2 command queues, 5 retry stages × 2 providers, 6 reconciliation delays × 2 providers, the history
        // stream, the dead-letter queue, the unrouted-events queue.
        #expect(declarations.queues.count == 27)
        #expect(declarations.queues.allSatisfy { $0.durable })
        #expect(declarations.queues.allSatisfy { $0.kind == .quorum || $0.name == Topology.historyStream })

        let amanpay = try #require(declarations.queues.first { $0.name == Topology.commandQueue(.amanpay) })
        #expect(amanpay.declareArguments == [
            "x-queue-type": .string("quorum"), "x-dead-letter-exchange": .string(Topology.deadLetterExchange),
            "x-delivery-limit": .int64(Int64(Topology.commandQueueDeliveryLimit)),
            "x-dead-letter-strategy": .string("at-least-once"), "x-overflow": .string("reject-publish"),
        ])
        for provider in Provider.allCases {
            for (index, delay) in Topology.retryDelays.enumerated() {
                let name = Topology.retryQueue(provider, stage: index + 1)
                let queue = try #require(declarations.queues.first { $0.name == name })
                #expect(queue.messageTTLMilliseconds == Int(delay.components.seconds) * 1000)
                #expect(queue.deadLetterExchange == Topology.retryReturnExchange)
                #expect(queue.deadLetterRoutingKey == Topology.retryReturnRoutingKey(provider))
                #expect(queue.arguments["x-overflow"] == .string("reject-publish"))
            }
            for delay in ReconcileSchedule.default.delaysMilliseconds {
                let name = Topology.reconcileQueue(provider, delayMilliseconds: delay)
                let queue = try #require(declarations.queues.first { $0.name == name })
                #expect(queue.messageTTLMilliseconds == delay)
                #expect(queue.deadLetterExchange == Topology.retryReturnExchange)
                #expect(queue.deadLetterRoutingKey == Topology.retryReturnRoutingKey(provider))
                #expect(queue.arguments["x-overflow"] == .string("reject-publish"))
            }
            #expect(declarations.queues.contains { $0.name == "payments.reconcile.\(provider.rawValue).1d" })
            #expect(declarations.bindings.contains(AMQPBinding(
                queue: Topology.commandQueue(provider), exchange: Topology.commandsExchange,
                routingKey: Topology.commandBindingKey(provider))))
            #expect(declarations.bindings.contains(AMQPBinding(
                queue: Topology.commandQueue(provider), exchange: Topology.retryReturnExchange,
                routingKey: Topology.retryReturnRoutingKey(provider))))
        }
        let dead = try #require(declarations.queues.first { $0.name == Topology.deadLetterQueue })
        #expect(dead.declareArguments == ["x-queue-type": .string("quorum"), "x-delivery-limit": .int64(1_000_000)])
        #expect(declarations.bindings.contains(AMQPBinding(
            queue: Topology.deadLetterQueue, exchange: Topology.deadLetterExchange, routingKey: "")))
        let unrouted = try #require(declarations.queues.last)
        #expect(unrouted.name == Topology.unroutedQueue)
        #expect(unrouted.declareArguments == ["x-queue-type": .string("quorum"),
                                              "x-delivery-limit": .int64(1_000_000)])
        #expect(declarations.bindings.contains(AMQPBinding(
            queue: Topology.unroutedQueue, exchange: Topology.unroutedExchange, routingKey: "")))
        let history = try #require(declarations.queues.first { $0.name == Topology.historyStream })
        #expect(history.declareArguments == ["x-queue-type": .string("stream"), "x-max-age": .string("7D")])
        #expect(declarations.bindings.contains(AMQPBinding(
            queue: Topology.historyStream, exchange: Topology.outcomesExchange, routingKey: "#")))
        // Every queue PayBridge sends its own messages to is bound to payments.internal by its own name: 2 command
        // queues, 10 retry and 12 reconciliation delay queues.
        let internalBindings = declarations.bindings.filter { $0.exchange == Topology.internalExchange }
        #expect(internalBindings.count == 24 && internalBindings.allSatisfy { $0.routingKey == $0.queue })
        #expect(Set(internalBindings.map(\.queue)) == Set(declarations.queues.map(\.name).filter {
            $0.hasPrefix("payments.retry.") || $0.hasPrefix("payments.reconcile.")
                || Provider.allCases.map(Topology.commandQueue).contains($0)
        }))
        #expect(declarations.bindings.count == 7 + 24)
        #expect(BrokerSetup.declarations(reconcileSchedule: .off).queues.count == 15)
    }

    @Test func definitionsJSONListsEveryQueueWithItsArguments() throws {
        let json = BrokerSetup.definitionsJSON()
        #expect(json == BrokerSetup.definitionsJSON(), "the output is deterministic")
        let root = try #require(JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let queues = try #require(root["queues"] as? [[String: Any]])
        let exchanges = try #require(root["exchanges"] as? [[String: Any]])
        let bindings = try #require(root["bindings"] as? [[String: Any]])

        let declarations = BrokerSetup.declarations()
        #expect(queues.map { $0["name"] as? String } == declarations.queues.map(\.name))
        #expect(exchanges.map { $0["name"] as? String } == declarations.exchanges.map(\.name))
        #expect(bindings.count == declarations.bindings.count)
        for entry in queues + exchanges + bindings { #expect(entry["vhost"] as? String == "/") }
        for queue in queues { #expect(queue["durable"] as? Bool == true) }

        let byName = Dictionary(uniqueKeysWithValues: queues.map { ($0["name"] as! String, $0) })
        let command = try #require(byName[Topology.commandQueue(.firstpay)]?["arguments"] as? [String: Any])
        #expect(command["x-queue-type"] as? String == "quorum")
        #expect(command["x-dead-letter-exchange"] as? String == Topology.deadLetterExchange)
        #expect(command["x-delivery-limit"] as? Int == Topology.commandQueueDeliveryLimit)
        #expect(command["x-overflow"] as? String == "reject-publish")
        #expect(command["x-dead-letter-strategy"] as? String == "at-least-once")
        let lastStage = try #require(byName[Topology.retryQueue(.firstpay, stage: 5)]?["arguments"] as? [String: Any])
        #expect(lastStage["x-message-ttl"] as? Int == 1_800_000)
        #expect(lastStage["x-dead-letter-exchange"] as? String == Topology.retryReturnExchange)
        #expect(lastStage["x-dead-letter-routing-key"] as? String == "firstpay")
        #expect(json.contains("\"routing_key\" : \"amanpay.*\"") || json.contains("\"routing_key\": \"amanpay.*\""))
        let odd = "pay\"ments\\\u{1}é"
        let oddRoot = try #require(JSONSerialization.jsonObject(
            with: Data(BrokerSetup.definitionsJSON(vhost: odd).utf8)) as? [String: Any])
        #expect((oddRoot["queues"] as? [[String: Any]])?.first?["vhost"] as? String == odd)
    }

    @Test func declaringTwiceIsIdempotent() async throws {
        try await ToolsTestBroker.withVHost { configuration in
            for _ in 1...2 {
                try await ToolsTestBroker.withConnection(configuration) { connection in
                    try await BrokerSetup.declare(on: connection)
                }
            }
            try await ToolsTestBroker.withConnection(configuration) { connection in
                for queue in BrokerSetup.declarations().queues {
                    let state = try await connection.declare(AMQPQueue(queue.name, kind: .quorum, passive: true))
                    #expect(state.messageCount == 0)
                }
                for exchange in BrokerSetup.declarations().exchanges {
                    try await connection.declare(AMQPExchange(exchange.name, type: exchange.type, passive: true))
                }
            }
        }
    }

    @Test func importedDefinitionsAgreeWithTheDeclarations() async throws {
        // The file imports cleanly, and declaring over it changes nothing (a mismatch would be a 406).
        try await ToolsTestBroker.withVHost(importTopology: true) { configuration in
            try await ToolsTestBroker.withConnection(configuration) { connection in
                try await BrokerSetup.declare(on: connection)
                try await BrokerSetup.declare(on: connection)
            }
        }
    }

    @Test func anEventNoQueueIsBoundForLandsInPaymentsUnrouted() async throws {
        try await ToolsTestBroker.withVHost { configuration in
            try await ToolsTestBroker.withConnection(configuration) { connection in
                try await BrokerSetup.declare(on: connection)
                // The history stream takes every event; without it (deleted, or a broker provisioned before it) no
                // queue is bound for this one.
                try await connection.deleteQueue(Topology.historyStream)
                // Mandatory, as PayBridge publishes events: the alternate exchange takes it, so no basic.return.
                try await connection.publish(Array("{}".utf8), exchange: Topology.outcomesExchange,
                                             routingKey: "amanpay.purchase.response", mandatory: true,
                                             properties: AMQPProperties(messageId: "unbound-1"))
                let received = try await ToolsTestBroker.receive(connection, from: Topology.unroutedQueue)
                #expect(received.first?.properties.messageId == "unbound-1")
                #expect(received.first?.routingKey == "amanpay.purchase.response", "the original key is kept")
            }
        }
    }

    @Test func anOutcomesExchangeFromBeforeTheAlternateExchangeIsAccepted() async throws {
        // Existing deployments declared payments.outcomes without arguments; RabbitMQ cannot add one (406).
        try await ToolsTestBroker.withVHost { configuration in
            try await ToolsTestBroker.withConnection(configuration) { connection in
                try await connection.declare(AMQPExchange(Topology.outcomesExchange, type: .topic))
                try await BrokerSetup.declare(on: connection)
                // The rest of the topology is there, and the connection still works.
                let state = try await connection.declare(AMQPQueue(Topology.unroutedQueue, kind: .quorum,
                                                                   passive: true))
                #expect(state.messageCount == 0)
                // Without the alternate exchange (and without the history stream, which takes every event), a
                // mandatory event nobody is bound for is returned, not dropped.
                try await connection.deleteQueue(Topology.historyStream)
                let error = await #expect(throws: AMQPError.self) {
                    try await connection.publish(Array("{}".utf8), exchange: Topology.outcomesExchange,
                                                 routingKey: "nobody.listens", mandatory: true)
                }
                #expect(error?.code == .unroutable)
            }
        }
    }

    @Test func parkedQueuesFromBeforeTheirDeliveryLimitAreAccepted() async throws {
        // Existing deployments declared payments.dead and payments.unrouted without x-delivery-limit; RabbitMQ
        // cannot add one (406), so the limit comes by policy there and the worker still starts.
        try await ToolsTestBroker.withVHost { configuration in
            try await ToolsTestBroker.withConnection(configuration) { connection in
                _ = try await connection.declare(AMQPQueue(Topology.deadLetterQueue, kind: .quorum))
                _ = try await connection.declare(AMQPQueue(Topology.unroutedQueue, kind: .quorum))
                try await BrokerSetup.declare(on: connection)
                let state = try await connection.declare(AMQPQueue(Topology.commandQueue(.firstpay), kind: .quorum,
                                                                   passive: true))
                #expect(state.messageCount == 0, "the rest of the topology is there")
            }
        }
    }

    @Test func mismatchedQueueIsReportedByName() async throws {
        try await ToolsTestBroker.withVHost { configuration in
            try await ToolsTestBroker.withConnection(configuration) { connection in
                try await connection.declare(AMQPQueue(Topology.deadLetterQueue, kind: .classic))
                let error = await #expect(throws: PayBridgeToolError.self) {
                    try await BrokerSetup.declare(on: connection)
                }
                #expect(error?.message.contains("queue \(Topology.deadLetterQueue)") == true)
                #expect(error?.message.contains("406") == true)
            }
        }
    }

    @Test func retryDelayQueueReturnsTheMessageToItsCommandQueue() async throws {
        let delays = ToolsTestBroker.shortRetryDelays
        try await ToolsTestBroker.withVHost { configuration in
            try await ToolsTestBroker.withConnection(configuration) { connection in
                try await BrokerSetup.declare(on: connection, retryDelays: delays)
                let body = ToolsTestBroker.amanpayPurchase(id: "retry-1")
                let headers: AMQPTable = [
                    Topology.Headers.attempt: .int32(2),
                    Topology.Headers.originalRoutingKey: .string(PaymentCommandKind.amanpayPurchase.routingKey),
                ]
                let start = ContinuousClock.now
                // What the worker does to schedule attempt 2: the default exchange, key = the delay queue's name.
                try await connection.publish(
                    body, exchange: "", routingKey: Topology.retryQueue(.amanpay, stage: 1),
                    properties: AMQPProperties(contentType: Topology.contentType, headers: headers, persistent: true,
                                               messageId: "retry-1"))
                let received = try await ToolsTestBroker.receive(connection, from: Topology.commandQueue(.amanpay))
                let elapsed = ContinuousClock.now - start
                let delivery = try #require(received.first, "the message came back within 10 s")
                #expect(elapsed >= .milliseconds(250), "it waited for the stage's TTL (\(elapsed))")
                #expect(delivery.body == body)
                #expect(delivery.exchange == Topology.retryReturnExchange)
                #expect(delivery.routingKey == Topology.retryReturnRoutingKey(.amanpay))
                #expect(delivery.properties.messageId == "retry-1")
                #expect(delivery.properties.headers?[Topology.Headers.attempt]?.intValue == 2)
                #expect(delivery.properties.headers?[Topology.Headers.originalRoutingKey]?.stringValue
                    == "amanpay.purchase")
                #expect(try await ToolsTestBroker.messageCount(connection, Topology.commandQueue(.firstpay),
                                                               becomes: 0) == 0)
            }
        }
    }
}
