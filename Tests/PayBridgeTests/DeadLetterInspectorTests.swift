import AMQP
import Foundation
import PayBridge
import PayBridgeTools
import PayBridgeContract
import PaymentVocabulary
import Testing
import PayBridgeTopology

@Suite(.timeLimit(.minutes(2)))
struct DeadLetterInspectorTests {
    /// `dead-letters list` shows the trace id: from the `traceparent` header, else the body's CloudEvents attribute.
    @Test func aDeadLetterShowsItsTraceId() {
        let header = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        let fromHeader = DeadLetter(routingKey: "amanpay.purchase",
                                    properties: AMQPProperties(headers: ["traceparent": .string(header)]),
                                    body: Array("not json".utf8))
        #expect(fromHeader.traceId == "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(EventPrinter.describe(fromHeader).contains("trace id   4bf92f3577b34da6a3ce929d0e0e4736"))
        #expect(fromHeader.jsonValue["traceId"]?.stringValue == "4bf92f3577b34da6a3ce929d0e0e4736")
        let body = #"{"specversion":"1.0","id":"c","type":"t","source":"/s","traceparent":"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}"#
        let fromBody = DeadLetter(routingKey: "amanpay.purchase", properties: AMQPProperties(), body: Array(body.utf8))
        #expect(fromBody.traceId == "0af7651916cd43dd8448eb211c80319c")
        let none = DeadLetter(routingKey: "k", properties: AMQPProperties(headers: ["traceparent": .string("junk")]),
                              body: [])
        #expect(none.traceId == nil)
    }

    /// Puts two dead letters into `payments.dead`, one of each kind:
    /// - `dl-worker`: dead-lettered by the worker (PayBridge's reason headers), original key `amanpay.purchase`;
    /// - `dl-broker`: rejected without requeue from `payments.firstpay`, so dead-lettered by the broker (`x-death`).
    static func makeDeadLetters(_ connection: AMQPConnection) async throws {
        try await BrokerSetup.declare(on: connection)
        let headers: AMQPTable = [
            Topology.Headers.deadLetterReason: .string(ErrorClass.retriesExhausted.rawValue),
            Topology.Headers.deadLetterCode: .string("RETRIES_EXHAUSTED"),
            Topology.Headers.deadLetterDetail: .string("provider timed out 6 times"),
            Topology.Headers.deadLetteredAt: .string("2026-11-21T06:30:00Z"),
            Topology.Headers.sourceQueue: .string(Topology.commandQueue(.amanpay)),
            Topology.Headers.failedEventId: .string("0b5c5e2a-1111-8222-9333-444455556666"),
            Topology.Headers.attempt: .int32(6),
            Topology.Headers.originalRoutingKey: .string("amanpay.purchase"),
            "traceparent": .string("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
        ]
        try await connection.publish(
            ToolsTestBroker.amanpayPurchase(id: "dl-worker"), exchange: Topology.deadLetterExchange,
            routingKey: Topology.retryQueue(.amanpay, stage: 5),
            properties: AMQPProperties(contentType: Topology.contentType, headers: headers, persistent: true,
                                       messageId: "dl-worker"))

        try await CommandSender(connection: connection).send(ToolsTestBroker.firstpayStatus(id: "dl-broker"))
        let consumer = try await connection.consume(queue: Topology.commandQueue(.firstpay))
        for try await delivery in consumer {
            try await delivery.reject(requeue: false)
            break
        }
        await consumer.cancel()
        #expect(try await ToolsTestBroker.messageCount(connection, Topology.deadLetterQueue, becomes: 2) == 2)
    }

    @Test func listShowsTheReasonsAndLeavesTheMessagesInPlace() async throws {
        try await ToolsTestBroker.withVHost { configuration in
            try await ToolsTestBroker.withConnection(configuration) { connection in
                try await Self.makeDeadLetters(connection)
                let inspector = DeadLetterInspector(connection: connection)
                let listed = try await inspector.list()
                #expect(listed.map(\.id) == ["dl-worker", "dl-broker"])

                let worker = try #require(listed.first)
                #expect(worker.reason == "retries_exhausted")
                #expect(worker.code == "RETRIES_EXHAUSTED")
                #expect(worker.detail == "provider timed out 6 times")
                #expect(worker.attempt == 6)
                #expect(worker.originalRoutingKey == "amanpay.purchase")
                #expect(worker.sourceQueue == "payments.amanpay")
                #expect(worker.replayRoutingKey == "amanpay.purchase")
                #expect(worker.deaths.isEmpty)
                let text = EventPrinter.describe(worker, index: 1)
                #expect(text.contains("#1 dl-worker  paybridge.amanpay.purchase.v1"))
                #expect(text.contains("retries_exhausted / RETRIES_EXHAUSTED"))
                #expect(text.contains("provider timed out 6 times"))

                let broker = try #require(listed.last)
                #expect(broker.reason == nil)
                let death = try #require(broker.deaths.first)
                #expect(death.reason == "rejected")
                #expect(death.queue == "payments.firstpay")
                #expect(death.routingKeys == ["firstpay.status"])
                #expect(death.count == 1)
                #expect(broker.replayRoutingKey == "firstpay.status")
                #expect(EventPrinter.describe(broker)
                    .contains("rejected in payments.firstpay ×1, keys firstpay.status"))
                #expect(broker.jsonValue["xDeath"]?.arrayValue?.first?["reason"]?.stringValue == "rejected")

                // Nothing was removed: a second listing sees the same, in the same order.
                #expect(try await ToolsTestBroker.messageCount(connection, Topology.deadLetterQueue, becomes: 2) == 2)
                #expect(try await inspector.list().map(\.id) == ["dl-worker", "dl-broker"])
                // The returns are asynchronous on the broker: wait until both are ready again.
                #expect(try await ToolsTestBroker.messageCount(connection, Topology.deadLetterQueue, becomes: 2) == 2)
                let first = try await inspector.list(limit: 1)
                #expect(first.map(\.id) == ["dl-worker"])
                #expect(try await ToolsTestBroker.messageCount(connection, Topology.deadLetterQueue, becomes: 2) == 2)
            }
        }
    }

    @Test func replayMovesDeadLettersBackToTheirCommandQueues() async throws {
        try await ToolsTestBroker.withVHost { configuration in
            try await ToolsTestBroker.withConnection(configuration) { connection in
                try await Self.makeDeadLetters(connection)
                let inspector = DeadLetterInspector(connection: connection)

                let one = try await inspector.replay(.ids(["dl-worker", "no-such-id"]))
                #expect(one.replayed.map(\.deadLetter.id) == ["dl-worker"])
                #expect(one.replayed.map(\.routingKey) == ["amanpay.purchase"])
                #expect(one.failed.isEmpty)
                #expect(one.notFound == ["no-such-id"])
                let replayed = try #require(try await ToolsTestBroker.receive(
                    connection, from: Topology.commandQueue(.amanpay)).first)
                #expect(replayed.body == ToolsTestBroker.amanpayPurchase(id: "dl-worker"))
                #expect(replayed.exchange == Topology.internalExchange, "a replay is PayBridge's own message")
                #expect(replayed.routingKey == Topology.commandQueue(.amanpay))
                #expect(replayed.properties.messageId == "dl-worker")
                #expect(replayed.properties.persistent == true)
                let headers = replayed.properties.headers ?? [:]
                #expect(headers[Topology.Headers.attempt] == nil, "the attempt counter starts again")
                #expect(headers[Topology.Headers.replayed] == .bool(true), "a replayed create goes status-first")
                #expect(headers[Topology.Headers.deadLetterReason] == nil)
                #expect(headers[Topology.Headers.originalRoutingKey] == .string("amanpay.purchase"))
                #expect(headers["traceparent"] != nil, "other headers are kept")
                #expect(try await ToolsTestBroker.messageCount(connection, Topology.deadLetterQueue, becomes: 1) == 1)

                let rest = try await inspector.replay(.all)
                #expect(rest.replayed.map(\.deadLetter.id) == ["dl-broker"])
                #expect(rest.replayed.map(\.routingKey) == ["firstpay.status"])
                let again = try #require(try await ToolsTestBroker.receive(
                    connection, from: Topology.commandQueue(.firstpay)).first)
                #expect(again.properties.messageId == "dl-broker")
                #expect(again.properties.headers?["x-death"] == nil)
                #expect(try await ToolsTestBroker.messageCount(connection, Topology.deadLetterQueue, becomes: 0) == 0)
                #expect(try await inspector.list().isEmpty)
            }
        }
    }
}
