import AMQP
import AsyncHTTPClient
import Foundation
import NIOCore
@testable import PayBridge
import PayBridgeContract
import ProviderCore
import Testing

/// Through the broker, a worker and the provider sandbox: a callback is a notification,
/// the event says what the provider's status API says, and corrections are ordered by `time`.
@Suite(.timeLimit(.minutes(3))) struct CallbackTruthEndToEndTests {
    /// POSTs a callback to PayBridge's endpoint; returns the HTTP status.
    static func post(_ port: Int, provider: String, _ body: String, authorization: String?) async throws -> Int {
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        defer { _ = http.shutdown() }
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/callbacks/\(provider)")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        if let authorization { request.headers.add(name: "Authorization", value: authorization) }
        request.body = .bytes(ByteBuffer(string: body))
        return Int(try await http.execute(request, timeout: .seconds(10)).status.code)
    }

    static func callbacks(_ world: EndToEnd, paymentId: String) -> [RecordedEvent] {
        callbacks(world.events.all, paymentId: paymentId)
    }

    /// For ``EventRecorder/wait(timeout:until:)`` conditions, which get the events (and must not read the recorder).
    static func callbacks(_ events: [RecordedEvent], paymentId: String) -> [RecordedEvent] {
        events.filter { $0.event.type == OutcomeEvents.callbackType && $0.data["paymentId"]?.stringValue == paymentId }
    }

    @Test func aForgedAmanpayCallbackPublishesTheProvidersStatusNotTheClaim() async throws {
        try await EndToEnd.run { world in
            try await world.withPayBridge { runtime in
                let paymentId = "victim-\(UUID().uuidString.prefix(8).lowercased())"
                let purchase = try await world.send(.amanpayPurchase, data: purchaseData(paymentId))
                let response = try await world.events.first(type: OutcomeEvents.responseType, commandId: purchase)
                #expect(response.status != "succeeded")  // the customer has not paid

                // A signature that verifies, over moved field boundaries and unsigned fields a forger added.
                let forged = #"{"transactionId":"6286","paymentID":"\#(paymentId)","status":"SUCCESS","amount":250.50,"#
                    + #""currency":"BDT","paymentType":"payout","errorCode":"GENERAL_ERROR"}"#
                let port = await runtime.httpPort()
                #expect(try await Self.post(port, provider: "amanpay", forged,
                                            authorization: AmanpayTestSigning.sign(forged)) == 200)
                try await world.events.wait { !Self.callbacks($0, paymentId: paymentId).isEmpty }
                let events = Self.callbacks(world, paymentId: paymentId)
                #expect(events.count == 1)
                let event = try #require(events.first)
                expectValid(event)
                #expect(event.status == response.status, "the provider's status, not the forged SUCCESS")
                #expect(event.data["providerStatus"] == response.data["providerStatus"])
                #expect(event.data["operation"]?.stringValue == "purchase", "found by purchases/status")
                #expect(event.data["error"] == nil, "an unsigned errorCode changes nothing")
                #expect(event.data["confirmedBy"]?.stringValue == "status_read")
                #expect(event.data["providerPaymentId"] == response.data["providerPaymentId"])
                #expect(event.data["raw"]?["transactionId"]?.stringValue == "6286", "the callback is kept as evidence")
                #expect(world.sandbox.receivedRequests().contains {
                    $0.operation == "status" && $0.paymentId == paymentId
                }, "the worker asked the provider")
            }
        }
    }

    @Test func firstPayCorrectionsAreOrderedByTimeAndAReplayNeverUndoesOne() async throws {
        try await EndToEnd.run { world in
            // The replay below is read: identical notifications are read once only within
            // PAYBRIDGE_CALLBACK_DEDUP_SECONDS, and a replay after the window must still never undo a correction.
            var configuration = try world.configuration()
            configuration.callbackDedupWindow = .zero
            try await world.withPayBridge(configuration) { _ in
                let paymentId = "fp-\(UUID().uuidString.prefix(8).lowercased())"
                let payIn = try await world.send(.firstpayPayIn, data: firstpayPaymentData(paymentId))
                _ = try await world.events.first(type: OutcomeEvents.responseType, commandId: payIn)
                func next(after count: Int) async throws -> RecordedEvent {
                    try await world.events.wait { Self.callbacks($0, paymentId: paymentId).count > count }
                    return Self.callbacks(world, paymentId: paymentId)[count]
                }
                // SUCCESS → FAILED → SUCCESS, each postback confirmed before the next correction.
                #expect(world.sandbox.completeFirstPay(merchantPaymentId: paymentId, status: "SUCCESS"))
                let first = try await next(after: 0)
                let successIndex = world.sandbox.callbackDeliveries().count - 1
                #expect(world.sandbox.flipFirstPay(merchantPaymentId: paymentId))
                let second = try await next(after: 1)
                #expect(world.sandbox.flipFirstPay(merchantPaymentId: paymentId))
                let third = try await next(after: 2)
                #expect([first, second, third].map(\.status) == ["succeeded", "failed", "succeeded"])
                #expect(Set([first, second, third].map(\.event.id)).count == 3, "three facts, three ids")
                let times = [first, second, third].map { $0.event.time ?? "" }
                #expect(times[0] < times[1] && times[1] < times[2], "RFC 3339 UTC with milliseconds sorts as text")

                // FAILED again, then the old SUCCESS postback replayed: what is published is the provider's FAILED,
                // newer than the correction, so "newest time wins" stays at failed.
                #expect(world.sandbox.flipFirstPay(merchantPaymentId: paymentId))
                let correction = try await next(after: 3)
                #expect(correction.status == "failed")
                #expect(world.sandbox.replayCallback(at: successIndex))
                let replayed = try await next(after: 4)
                #expect(replayed.status == "failed")
                #expect(replayed.data["raw"]?["status"]?.stringValue == "SUCCESS", "the replayed postback")
                #expect((replayed.event.time ?? "") >= (correction.event.time ?? "~"))
                let newest = Self.callbacks(world, paymentId: paymentId).max { ($0.event.time ?? "") < ($1.event.time ?? "") }
                #expect(newest?.status == "failed")
                for event in Self.callbacks(world, paymentId: paymentId) { expectValid(event) }
            }
        }
    }

    /// "replays cost little": the same signed callback posted again and again within
    /// `PAYBRIDGE_CALLBACK_DEDUP_SECONDS` costs one status read and one event, however often it arrives.
    @Test func identicalCallbacksArrivingTogetherAreReadOnce() async throws {
        try await EndToEnd.run { world in
            try await world.withPayBridge { runtime in
                let paymentId = "replayed-\(UUID().uuidString.prefix(8).lowercased())"
                let purchase = try await world.send(.amanpayPurchase, data: purchaseData(paymentId))
                _ = try await world.events.first(type: OutcomeEvents.responseType, commandId: purchase)
                func statusReads() -> Int {
                    world.sandbox.receivedRequests().filter { $0.operation == "status" && $0.paymentId == paymentId }
                        .count
                }
                let readsBefore = statusReads()
                let body = #"{"transactionId":"6286","paymentID":"\#(paymentId)","status":"SUCCESS","amount":250.50,"#
                    + #""currency":"BDT","paymentType":"purchase"}"#
                let port = await runtime.httpPort()
                for _ in 0..<5 {
                    #expect(try await Self.post(port, provider: "amanpay", body,
                                                authorization: AmanpayTestSigning.sign(body)) == 200)
                }
                let scraper = MetricsScraper(adminPort: await runtime.adminPort())
                _ = try await scraper.scrape(until: "four duplicate callbacks counted") {
                    ($0.value("paybridge_commands_total", ["provider": "amanpay", "outcome": "duplicate_callback"])
                        ?? 0) >= 4
                }
                try await world.events.wait { !Self.callbacks($0, paymentId: paymentId).isEmpty }
                #expect(statusReads() - readsBefore == 1, "one status read for five identical callbacks")
                #expect(Self.callbacks(world, paymentId: paymentId).count == 1, "one event")
            }
        }
    }

    @Test func aCallbackForAPaymentTheProviderDoesNotKnowPublishesNothing() async throws {
        try await EndToEnd.run { world in
            try await world.withPayBridge { runtime in
                let ghost = "ghost-\(UUID().uuidString.prefix(8).lowercased())"
                let body = #"{"transactionId":"9","paymentID":"\#(ghost)","status":"SUCCESS","amount":10.00,"#
                    + #""currency":"BDT","paymentType":"purchase"}"#
                let port = await runtime.httpPort()
                #expect(try await Self.post(port, provider: "amanpay", body,
                                            authorization: AmanpayTestSigning.sign(body)) == 200)
                let dead = try #require(try await deadLetters(world, count: 1).first)
                let headers = dead.properties.headers
                #expect(headers?[Topology.Headers.deadLetterCode]?.stringValue == "CALLBACK_PAYMENT_UNKNOWN")
                #expect(headers?[Topology.Headers.deadLetterReason]?.stringValue == "not_found")
                #expect(dead.bodyString == body, "kept byte for byte")
                #expect(Self.callbacks(world, paymentId: ghost).isEmpty)
            }
        }
    }
}
