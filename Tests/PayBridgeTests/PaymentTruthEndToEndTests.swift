import AMQP
import Foundation
@testable import PayBridge
import PayBridgeContract
import ProviderSandbox
import StrictJSON
import Testing

/// Through the broker and the sandbox: the not-found response, creates never doubled by a
/// concurrent duplicate or a replay.
@Suite(.timeLimit(.minutes(3))) struct PaymentTruthEndToEndTests {
    /// A command envelope around `data`.
    static func envelope(_ kind: PaymentCommandKind, id: String, data: JSONObject) -> [UInt8] {
        JSONValue.object([
            "specversion": .string("1.0"), "id": .string(id), "type": .string(kind.type),
            "source": .string("/tests/e2e"), "time": .string("2026-11-21T06:00:00Z"),
            "datacontenttype": .string("application/json"), "data": .object(data),
        ]).serialized()
    }

    @Test func aStatusReadOfAnUnknownPaymentIsAResponseUnknownNotFinalNotFound() async throws {
        try await EndToEnd.run { world in
            try await world.withPayBridge { _ in
                let amanpay = try await world.send(.amanpayStatus, data: [
                    "paymentId": .string("nobody-\(UUID().uuidString.prefix(8))"), "paymentType": .string("purchase")])
                let firstpay = try await world.send(.firstpayStatus, data: [
                    "merchantPaymentId": .string("nobody-\(UUID().uuidString.prefix(8))")])
                for (id, provider, code) in [(amanpay, "amanpay", "TRANSACTION_NOT_FOUND"), (firstpay, "firstpay", "NOT_FOUND")] {
                    let response = try await world.events.first(type: OutcomeEvents.responseType, commandId: id)
                    expectValid(response)
                    #expect(response.routingKey == "\(provider).status.response")
                    #expect(response.status == "unknown")
                    #expect(response.data["final"] == false)
                    #expect(response.data["error"]?["class"]?.stringValue == "not_found")
                    #expect(response.data["error"]?["code"]?.stringValue == code)
                    #expect(!world.events.forCommand(id).contains { $0.event.type == OutcomeEvents.commandFailedType })
                }
            }
        }
    }

    @Test func theSameCreatePublishedTwiceAtOnceReachesTheProviderOnce() async throws {
        try await EndToEnd.run { world in
            try await world.withPayBridge { _ in
                let paymentId = "twice-\(UUID().uuidString.prefix(8))"
                let id = "cmd-twice-\(UUID().uuidString.prefix(8))"
                // The first create is slow at the provider, so the second delivery arrives while it is in flight
                // (before, it read the status, found nothing yet, and sent a second initiate).
                world.sandbox.addFault(SandboxFault(provider: "amanpay", operation: "purchase", paymentId: paymentId,
                                                    times: 1, latencyMs: 800))
                let body = Self.envelope(.amanpayPurchase, id: id, data: purchaseData(paymentId))
                try await world.sendRaw(body, routingKey: "amanpay.purchase", messageId: id)
                try await world.sendRaw(body, routingKey: "amanpay.purchase", messageId: id)
                try await world.events.wait {
                    $0.filter { $0.commandId == id && $0.event.type == OutcomeEvents.responseType }.count == 2
                }
                let requests = world.sandbox.receivedRequests().filter { $0.paymentId == paymentId }
                #expect(requests.filter { $0.operation == "purchase" }.count == 1, "exactly one initiate")
                #expect(requests.filter { $0.operation == "status" }.isEmpty, "the second delivery reused the first")
                let responses = world.events.forCommand(id).filter { $0.event.type == OutcomeEvents.responseType }
                #expect(Set(responses.map(\.event.id)).count == 1, "one outcome, one event id")
            }
        }
    }

    @Test func aReplayedCreateReadsTheStatusInsteadOfInitiatingAgain() async throws {
        try await EndToEnd.run { world in
            try await world.withPayBridge { _ in
                let paymentId = "replay-\(UUID().uuidString.prefix(8))"
                let first = try await world.send(.amanpayPurchase, data: purchaseData(paymentId))
                _ = try await world.events.first(type: OutcomeEvents.responseType, commandId: first)
                // What `dead-letters replay` publishes (as the `paybridge` user, through payments.internal): a
                // command this worker has not seen, marked replayed.
                let replayed = "cmd-replayed-\(UUID().uuidString.prefix(8))"
                let tool = try await AMQPConnection.connect(url: world.amqpURL, logger: e2eLogger)
                try await tool.publish(
                    Self.envelope(.amanpayPurchase, id: replayed, data: purchaseData(paymentId)),
                    exchange: Topology.internalExchange, routingKey: Topology.commandQueue(.amanpay), mandatory: true,
                    properties: .init(contentType: "application/cloudevents+json",
                                      headers: [Topology.Headers.replayed: .bool(true),
                                                Topology.Headers.originalRoutingKey: .string("amanpay.purchase")],
                                      persistent: true, messageId: replayed))
                await tool.close()
                let response = try await world.events.first(type: OutcomeEvents.responseType, commandId: replayed)
                expectValid(response)
                let requests = world.sandbox.receivedRequests().filter { $0.paymentId == paymentId }
                #expect(requests.map(\.operation) == ["purchase", "status"], "status-first: no second initiate")
            }
        }
    }
}
