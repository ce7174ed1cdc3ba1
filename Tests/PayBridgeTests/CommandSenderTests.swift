import AMQP
import Foundation
import PayBridge
import PayBridgeTools
import PayBridgeContract
import PaymentVocabulary
import Synchronization
import Testing
import PayBridgeTopology

@Suite(.timeLimit(.minutes(2)))
struct CommandSenderTests {
    @Test func routingKeyComesFromTheType() throws {
        let sent = try CommandSender.inspect(ToolsTestBroker.amanpayPurchase(id: "c-1", paymentId: "p-9"))
        #expect(sent == CommandSender.SentCommand(commandId: "c-1", type: "paybridge.amanpay.purchase.v1",
                                                  routingKey: "amanpay.purchase", paymentId: "p-9",
                                                  traceparent: sent.traceparent))
        #expect(sent.traceId.count == 32, "a command without trace context is sent as a new trace's first span")
        #expect(try CommandSender.inspect(ToolsTestBroker.firstpayStatus(id: "c-2")).routingKey == "firstpay.status")
    }

    @Test func aCommandsOwnValidTraceparentIsKeptAndAnInvalidOneReplaced() throws {
        let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        func command(_ value: String) -> [UInt8] {
            Array(#"{"specversion":"1.0","id":"c-3","type":"paybridge.amanpay.status.v1","source":"/t","#.utf8)
                + Array(#""traceparent":"\#(value)","data":{"paymentId":"p","paymentType":"purchase"}}"#.utf8)
        }
        #expect(try CommandSender.inspect(command(traceparent)).traceparent == traceparent)
        let replaced = try CommandSender.inspect(command("00-BAD"))
        #expect(replaced.traceparent != "00-BAD" && replaced.traceId.count == 32)
    }

    @Test func unreadableCommandsNeedAnExplicitRoutingKey() throws {
        let notJSON = Array("{not json".utf8)
        let error = #expect(throws: PayBridgeToolError.self) { try CommandSender.inspect(notJSON) }
        #expect(error?.message.contains("not a CloudEvent") == true)
        let forced = try CommandSender.inspect(notJSON, routingKey: "amanpay.purchase")
        #expect(forced.routingKey == "amanpay.purchase" && forced.commandId == nil)

        let unknown = Array("""
            {"specversion":"1.0","id":"x","type":"paybridge.amanpay.refund.v1","source":"/t","data":{}}
            """.utf8)
        let unknownError = #expect(throws: PayBridgeToolError.self) { try CommandSender.inspect(unknown) }
        #expect(unknownError?.message.contains("paybridge.amanpay.refund.v1") == true)
    }

    @Test func commandLandsInItsProviderQueue() async throws {
        try await ToolsTestBroker.withVHost { configuration in
            try await ToolsTestBroker.withConnection(configuration) { connection in
                let sender = CommandSender(connection: connection)
                // Without the topology the command is refused, not lost.
                let error = await #expect(throws: PayBridgeToolError.self) {
                    try await sender.send(ToolsTestBroker.amanpayPurchase())
                }
                #expect(error?.message.contains("paybridge topology") == true)

                try await BrokerSetup.declare(on: connection)
                let amanpayBody = ToolsTestBroker.amanpayPurchase(id: "cmd-aman-1")
                let firstpayBody = ToolsTestBroker.firstpayStatus(id: "cmd-first-1")
                try await sender.send(amanpayBody)
                try await sender.send(firstpayBody)
                #expect(try await ToolsTestBroker.messageCount(connection, Topology.commandQueue(.amanpay),
                                                               becomes: 1) == 1)
                #expect(try await ToolsTestBroker.messageCount(connection, Topology.commandQueue(.firstpay),
                                                               becomes: 1) == 1)

                let amanpay = try #require(try await ToolsTestBroker.receive(
                    connection, from: Topology.commandQueue(.amanpay)).first)
                #expect(amanpay.body == amanpayBody)
                #expect(amanpay.exchange == Topology.commandsExchange)
                #expect(amanpay.routingKey == "amanpay.purchase")
                #expect(amanpay.properties.messageId == "cmd-aman-1")
                #expect(amanpay.properties.contentType == "application/cloudevents+json")
                #expect(amanpay.properties.persistent == true)
                #expect(amanpay.properties.type == "paybridge.amanpay.purchase.v1")

                let firstpay = try #require(try await ToolsTestBroker.receive(
                    connection, from: Topology.commandQueue(.firstpay)).first)
                #expect(firstpay.routingKey == "firstpay.status")
                #expect(firstpay.properties.messageId == "cmd-first-1")
            }
        }
    }

    @Test func waitReturnsTheCorrelatedEventsUntilTheCommandEnds() async throws {
        try await ToolsTestBroker.withVHost { configuration in
            try await ToolsTestBroker.withConnection(configuration) { connection in
                try await BrokerSetup.declare(on: connection)
                // A stand-in worker: answers each command according to its paymentId, with an unrelated event
                // first (another command's), which the sender must ignore.
                let consumer = try await connection.consume(queue: Topology.commandQueue(.amanpay))
                let worker = Task {
                    for try await delivery in consumer {
                        let command = try CommandDecoder().decode(delivery.body, routingKey: delivery.routingKey).get()
                        func outcome(_ commandId: String, _ status: PaymentStatus, final: Bool,
                                     error: OutcomeError? = nil) -> PaymentOutcome {
                            PaymentOutcome(commandId: commandId, provider: .amanpay, operation: "purchase",
                                           paymentId: command.paymentId, providerPaymentId: "62861", status: status,
                                           final: final, providerStatus: "P", amount: "250.51", currency: "BDT",
                                           error: error)
                        }
                        var messages = [OutcomeEvents.response(outcome("someone-else", .succeeded, final: true))]
                        switch command.paymentId {
                        case "pay-final":
                            messages.append(OutcomeEvents.response(outcome(command.id, .processing, final: false)))
                            var callback = outcome(command.id, .succeeded, final: true)
                            callback.commandId = nil
                            messages.append(OutcomeEvents.callback(callback))
                        case "pay-failed":
                            messages.append(OutcomeEvents.commandFailed(outcome(
                                command.id, .failed, final: true,
                                error: OutcomeError(code: "RETRIES_EXHAUSTED", message: "gave up",
                                                    errorClass: .retriesExhausted))))
                        default:
                            messages.append(OutcomeEvents.response(outcome(command.id, .processing, final: false)))
                        }
                        for message in messages {
                            try await connection.publish(
                                message.body, exchange: message.exchange, routingKey: message.routingKey,
                                properties: AMQPProperties(
                                    contentType: message.properties.contentType, persistent: true,
                                    correlationId: message.properties.correlationId,
                                    messageId: message.properties.messageId, type: message.properties.type))
                        }
                        try await delivery.ack()
                    }
                }
                defer { worker.cancel() }

                let sender = CommandSender(connection: connection)
                let printed = Mutex<[String]>([])
                let final = try await sender.sendAndWait(
                    ToolsTestBroker.amanpayPurchase(id: "cmd-final", paymentId: "pay-final"), timeout: .seconds(10)
                ) { event in printed.withLock { $0.append(EventPrinter.describe(event)) } }
                #expect(final.completion == .final)
                #expect(final.events.map(\.type) == [OutcomeEvents.responseType, OutcomeEvents.callbackType])
                #expect(final.events.map(\.status) == ["processing", "succeeded"])
                #expect(final.events.first?.properties.correlationId == "cmd-final")
                let lines = printed.withLock { $0 }
                #expect(lines.count == 2)
                #expect(lines.first?.contains("status     processing (provider P, not final)") == true)
                #expect(lines.first?.contains("command cmd-final") == true)

                let failed = try await sender.sendAndWait(
                    ToolsTestBroker.amanpayPurchase(id: "cmd-failed", paymentId: "pay-failed"), timeout: .seconds(10))
                #expect(failed.completion == .commandFailed)
                #expect(failed.events.count == 1)
                #expect(EventPrinter.describe(try #require(failed.events.first))
                    .contains("RETRIES_EXHAUSTED [retries_exhausted] gave up"))

                let start = ContinuousClock.now
                let pending = try await sender.sendAndWait(
                    ToolsTestBroker.amanpayPurchase(id: "cmd-pending", paymentId: "pay-pending"),
                    timeout: .milliseconds(800))
                #expect(pending.completion == .timedOut)
                #expect(pending.events.map(\.status) == ["processing"])
                #expect(ContinuousClock.now - start < .seconds(5))
            }
        }
    }
}
