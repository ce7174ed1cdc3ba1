import AMQP
import Foundation
@testable import PayBridge
import PayBridgeRules
import PayBridgeContract
import ProviderSandbox
import StrictJSON
import Testing

/// "producers ask, never impersonate": a service allowed to publish commands (`payments-producer`, the
/// role `deploy/rabbitmq-definitions.json` gives it) sets PayBridge's own headers. Each forged header does nothing:
/// the command is what its routing key and body say, and a message that is not a command is dead-lettered as one.
/// And the roles themselves: each is refused what the file does not give it.
@Suite(.timeLimit(.minutes(3))) struct ProducerTrustEndToEndTests {
    static func purchase(_ id: String) -> JSONObject {
        ["paymentId": .string(id), "amount": .string("250.50"), "currency": .string("BDT"),
         "customerEmail": .string("c@example.com")]
    }

    @Test func forgedPayBridgeHeadersFromAProducerDoNothing() async throws {
        try await EndToEnd.run { world in
            try await world.withPayBridge { _ in
                // 1. A forged reconciliation check: on main it read any payment's status under any account and
                //    published events for a command id of the producer's choice.
                let check = ReconcileCheck(kind: .amanpayPurchase, account: .default, commandId: "forged-check", paymentId: "victim-1", providerPaymentId: nil,
                                           status: .requiresAction, providerStatus: "REDIRECT", step: 1,
                                           openSince: "2026-11-18T11:00:00.000Z")
                try await world.sendRaw(check.body, routingKey: "amanpay.status", messageId: "forged-check-msg",
                                        headers: check.properties.headers)
                // 2. A forged command type: a producer that may only send status reads runs a payout.
                let payoutId = "forged-payout-\(UUID().uuidString.prefix(6))"
                let payout: JSONValue = .object([
                    "specversion": .string("1.0"), "id": .string(payoutId),
                    "type": .string(PaymentCommandKind.amanpayPayout.type), "source": .string("/tests/forged"),
                    "time": .string("2026-11-21T06:00:00Z"), "datacontenttype": .string("application/json"),
                    "data": .object(["paymentId": .string("victim-2"), "amount": .string("10.00"),
                                     "currency": .string("BDT"), "accountNumber": .string("01700000000"),
                                     "walletType": .string("bkash")]),
                ])
                try await world.sendRaw(payout.serialized(), routingKey: "amanpay.status", messageId: payoutId,
                                        headers: [Topology.Headers.originalRoutingKey: .string("amanpay.payout"),
                                                  Topology.Headers.account: .string("other")])
                // 3. Forged replay and attempt marks on a create: it runs as a first attempt (no status read first).
                let createId = "forged-replay-\(UUID().uuidString.prefix(6))"
                let envelope: JSONValue = .object([
                    "specversion": .string("1.0"), "id": .string(createId),
                    "type": .string(PaymentCommandKind.amanpayPurchase.type), "source": .string("/tests/forged"),
                    "time": .string("2026-11-21T06:00:00Z"), "datacontenttype": .string("application/json"),
                    "data": .object(Self.purchase(createId)),
                ])
                try await world.sendRaw(envelope.serialized(), routingKey: "amanpay.purchase", messageId: createId,
                                        headers: [Topology.Headers.replayed: .bool(true),
                                                  Topology.Headers.attempt: .int32(2)])

                let response = try await world.events.first(type: OutcomeEvents.responseType, commandId: createId)
                #expect(response.status != nil)
                let failed = try await world.events.first(type: OutcomeEvents.commandFailedType, commandId: payoutId)
                #expect(failed.data["error"]?["code"]?.stringValue == "ROUTING_KEY_MISMATCH",
                        "the routing key alone decides the type: \(failed.data)")
                let dead = try await deadLetters(world, count: 2)
                let codes = Dictionary(dead.map { ($0.properties.messageId ?? "-", $0) }, uniquingKeysWith: { a, _ in a })
                #expect(codes["forged-check-msg"]?.properties.headers?[Topology.Headers.deadLetterReason]?
                    .stringValue == "invalid_command", "a check from a producer is not a check")
                #expect(codes[payoutId] != nil)
                for letter in dead {
                    let headers = letter.properties.headers ?? [:]
                    #expect(headers[Topology.Headers.notification] == nil && headers[Topology.Headers.account] == nil,
                            "a producer's PayBridge headers are not forwarded into the dead letter")
                }

                let requests = world.sandbox.receivedRequests()
                #expect(!requests.contains { $0.paymentId == "victim-1" }, "the forged check read nothing")
                #expect(!requests.contains { $0.paymentId == "victim-2" }, "the forged payout reached no provider")
                #expect(!requests.contains { $0.operation.contains("payout") })
                let forCreate = requests.filter { $0.paymentId == createId }
                #expect(forCreate.first?.operation == "purchase",
                        "a forged replayed/attempt header does not send a create status-first: \(forCreate.map(\.operation))")
                #expect(!world.events.all.contains { $0.commandId == "forged-check" },
                        "no event for the command id the producer chose")
            }
        }
    }

    @Test func eachRoleIsRefusedWhatTheDefinitionsDoNotGiveIt() async throws {
        try await EndToEnd.run(recordEvents: false) { world in
            func refused(_ what: String, _ body: () async throws -> Void) async {
                do {
                    try await body()
                    Issue.record("\(what) was allowed")
                } catch let error as AMQPError {
                    #expect(error.replyCode == 403, "\(what): \(error)")
                } catch {
                    Issue.record("\(what): \(error)")
                }
            }
            let producer = world.producer
            await refused("producer → payments.internal") {
                try await producer.publish("x", exchange: Topology.internalExchange,
                                           routingKey: Topology.commandQueue(.amanpay))
            }
            await refused("producer → default exchange") {
                try await producer.publish("x", exchange: "", routingKey: Topology.commandQueue(.amanpay))
            }
            await refused("producer → payments.outcomes") {
                try await producer.publish("x", exchange: Topology.outcomesExchange, routingKey: "amanpay.callback")
            }
            await refused("producer declares a queue") {
                _ = try await producer.declare(AMQPQueue("consumer.producer-queue", kind: .classic, durable: false))
            }
            await refused("producer reads a command queue") {
                _ = try await producer.consume(queue: Topology.commandQueue(.amanpay), prefetch: 1)
            }
            // The producer may do what it is for.
            try await producer.publish("{}", exchange: Topology.commandsExchange, routingKey: "amanpay.status")

            let consumer = world.consumer
            let queue = "consumer.orders-\(UUID().uuidString.prefix(6))"
            _ = try await consumer.declare(AMQPQueue(queue, kind: .quorum))
            try await consumer.bind(queue: queue, exchange: Topology.outcomesExchange, routingKey: "amanpay.#")
            _ = try await consumer.consume(queue: queue, prefetch: 10)
            await refused("consumer → payments.commands") {
                try await consumer.publish("x", exchange: Topology.commandsExchange, routingKey: "amanpay.status")
            }
            await refused("consumer → payments.outcomes") {
                try await consumer.publish("x", exchange: Topology.outcomesExchange, routingKey: "amanpay.callback")
            }
            await refused("consumer → default exchange") {
                try await consumer.publish("x", exchange: "", routingKey: queue)
            }
            await refused("consumer reads a command queue") {
                _ = try await consumer.consume(queue: Topology.commandQueue(.amanpay), prefetch: 1)
            }
            await refused("consumer declares a queue outside consumer.*") {
                _ = try await consumer.declare(AMQPQueue("orders", kind: .classic, durable: false))
            }

            let paybridge = try await AMQPConnection.connect(url: world.amqpURL, logger: e2eLogger)
            await refused("paybridge → payments.commands (it never sends commands)") {
                try await paybridge.publish("x", exchange: Topology.commandsExchange, routingKey: "amanpay.status")
            }
            // paybridge may publish to the default exchange (`amq.default`): payment-methods replies reach the asker's
            // direct reply-to name only that way (`make examples-test` asks through the broker; without the grant the
            // reply is refused). That it answers nothing but direct reply-to names is PayBridge's rule
            // (PaymentMethodsQueryRulesTests), not the broker's.
            await paybridge.close()
        }
    }
}
