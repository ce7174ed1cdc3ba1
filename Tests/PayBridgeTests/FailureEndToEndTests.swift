import AMQP
import BrokerTestKit
import Amanpay
import ProviderCore
import AsyncHTTPClient
import Foundation
import NIOCore
@testable import PayBridge
import PayBridgeContract
import ProviderSandbox
import StrictJSON
import Testing

/// Reads every message in `payments.dead` of the world's vhost (acks them: the world is thrown away after).
func deadLetters(_ world: EndToEnd, count: Int) async throws -> [AMQPDelivery] {
    let consumer = try await world.client.consume(queue: Topology.deadLetterQueue, prefetch: 100)
    var received: [AMQPDelivery] = []
    for try await delivery in consumer {
        received.append(delivery)
        try await delivery.ack()
        if received.count == count { break }
    }
    await consumer.cancel()
    return received
}

/// Takes `count` callback notifications off the Amanpay command queue (for a world without a worker).
func storedNotifications(_ world: EndToEnd, count: Int) async throws -> [AMQPDelivery] {
    let consumer = try await world.client.consume(queue: Topology.commandQueue(.amanpay), prefetch: 100)
    var received: [AMQPDelivery] = []
    for try await delivery in consumer {
        #expect(delivery.properties.headers?[Topology.Headers.notification]?.stringValue == "callback")
        received.append(delivery)
        try await delivery.ack()
        if received.count == count { break }
    }
    await consumer.cancel()
    return received
}

@Suite(.timeLimit(.minutes(3))) struct FailureEndToEndTests {
    @Test func badCommandsAreDeadLetteredWithTheReasonAndNeverCrashTheWorker() async throws {
        try await EndToEnd.run { world in
            try await world.withPayBridge { _ in
                try await world.sendRaw(Array("{not json".utf8), routingKey: "amanpay.purchase")
                let unknownType = try await world.send(.amanpayPurchase, id: "cmd-unknown", data: purchaseData("x"))
                _ = unknownType
                try await world.sendRaw(Array("""
                    {"specversion":"1.0","id":"cmd-type","type":"paybridge.amanpay.refund.v1","source":"/t","time":"2026-11-21T06:00:00Z","data":{}}
                    """.utf8), routingKey: "amanpay.refund")
                let violation = try await world.send(.amanpayPurchase, id: "cmd-violation", data: [
                    "paymentId": .string("p1"), "amount": .number(JSONNumber(250)), "currency": .string("BDT"),
                    "customerEmail": .string("c@example.com")])
                try await world.events.wait {
                    $0.filter { $0.event.type == OutcomeEvents.commandFailedType }.count >= 3
                }
                let failed = world.events.all.filter { $0.event.type == OutcomeEvents.commandFailedType }
                for event in failed {
                    expectValid(event)
                    #expect(event.data["error"]?["class"]?.stringValue == "invalid_command")
                }
                let schemaFailure = try #require(failed.first { $0.commandId == violation })
                #expect(schemaFailure.data["error"]?["code"]?.stringValue == "SCHEMA_VIOLATION")
                #expect(schemaFailure.data["error"]?["message"]?.stringValue?.contains("/data/amount") == true)
                #expect(schemaFailure.routingKey == "amanpay.purchase.failed")

                let dead = try await deadLetters(world, count: 3)
                let reasons = dead.compactMap { $0.properties.headers?[Topology.Headers.deadLetterReason]?.stringValue }
                #expect(reasons == ["invalid_command", "invalid_command", "invalid_command"])
                let codes = Set(dead.compactMap { $0.properties.headers?[Topology.Headers.deadLetterCode]?.stringValue })
                #expect(codes.contains("BAD_JSON"))
                #expect(codes.contains("SCHEMA_VIOLATION"))
                #expect(dead.contains { $0.bodyString == "{not json" }, "the original body is kept unchanged")
                // The worker is still alive and serving.
                let ok = try await world.send(.amanpayPayout, data: payoutData("after-bad"))
                _ = try await world.events.first(type: OutcomeEvents.responseType, commandId: ok)
            }
        }
    }

    @Test func callbackWithBadSignatureIs401AndPublishesNothing() async throws {
        try await EndToEnd.run { world in
            try await world.withPayBridge { runtime in
                let port = await runtime.httpPort()
                let body = #"{"transactionId":"62861","paymentID":"payment_812","status":"SUCCESS","amount":250.51,"currency":"BDT","paymentType":"purchase"}"#
                let http = HTTPClient(eventLoopGroupProvider: .singleton)
                defer { _ = http.shutdown() }
                func post(_ path: String, _ body: String, authorization: String?) async throws -> Int {
                    var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
                    request.method = .POST
                    request.headers.add(name: "Content-Type", value: "application/json")
                    if let authorization { request.headers.add(name: "Authorization", value: authorization) }
                    request.body = .bytes(ByteBuffer(string: body))
                    return Int(try await http.execute(request, timeout: .seconds(10)).status.code)
                }
                #expect(try await post("/callbacks/amanpay", body, authorization: String(repeating: "ab", count: 64)) == 401)
                #expect(try await post("/callbacks/amanpay", body, authorization: nil) == 401)
                #expect(try await post("/callbacks/amanpay", "[1,2", authorization: "x") == 400)
                #expect(try await post("/callbacks/firstpay", #"{"id":"1","status":"SUCCESS","hash":"AAAA"}"#, authorization: nil) == 401)
                #expect(try await post("/callbacks/amanpay", String(repeating: " ", count: 65 * 1024), authorization: "x") == 413)
                // A correctly signed callback for a payment the provider knows gets 200 and, once a worker read
                // its status, an event: proof the 401s were about the signature.
                let paymentId = "p-\(UUID().uuidString.prefix(8).lowercased())"
                let payout = try await world.send(.amanpayPayout, data: payoutData(paymentId))
                _ = try await world.events.first(type: OutcomeEvents.responseType, commandId: payout)
                let known = body.replacingOccurrences(of: "payment_812", with: paymentId)
                let signature = AmanpayTestSigning.sign(known)
                #expect(try await post("/callbacks/amanpay", known, authorization: signature) == 200)
                try await world.events.wait { $0.contains { $0.event.type == OutcomeEvents.callbackType } }
                #expect(world.events.all.filter { $0.event.type == OutcomeEvents.callbackType }.count == 1)
                let metrics = runtime.metrics.exposition()
                #expect(metrics.contains("paybridge_callbacks_total{provider=\"amanpay\",account=\"default\",result=\"unauthorized\"} 2"))
            }
        }
    }

    @Test func callbackWhileTheBrokerIsUnreachableIs503ThenTheRetryIsPublishedOnce() async throws {
        try await EndToEnd.run { world in
            var configuration = try world.configuration()
            // PayBridge reaches the broker through a relay the test can cut: an outage for PayBridge only.
            let relay = try TCPRelay(targetPort: UInt16(configuration.amqp.port))
            defer { relay.stop() }
            configuration.amqp.port = Int(relay.port)
            configuration.publishTimeout = .seconds(2)
            try await world.withPayBridge(configuration, role: .callbacks) { runtime in
                let port = await runtime.httpPort()
                let adminPort = await runtime.adminPort()
                let http = HTTPClient(eventLoopGroupProvider: .singleton)
                defer { _ = http.shutdown() }
                func post(_ body: String) async throws -> Int {
                    var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/callbacks/amanpay")
                    request.method = .POST
                    request.headers.add(name: "Content-Type", value: "application/json")
                    request.headers.add(name: "Authorization", value: AmanpayTestSigning.sign(body))
                    request.body = .bytes(ByteBuffer(string: body))
                    return Int(try await http.execute(request, timeout: .seconds(10)).status.code)
                }
                func ready() async throws -> Bool {
                    let response = try await http.execute(
                        HTTPClientRequest(url: "http://127.0.0.1:\(adminPort)/readyz"), timeout: .seconds(5))
                    return response.status == .ok
                }
                func callback(_ id: String) -> String {
                    #"{"transactionId":"\#(id)","paymentID":"p-\#(id)","status":"SUCCESS","amount":10.00,"currency":"BDT","paymentType":"purchase"}"#
                }
                #expect(try await post(callback("before")) == 200)

                relay.cut()
                let started = ContinuousClock.now
                #expect(try await post(callback("during")) == 503, "the provider must retry: nothing was published")
                #expect(ContinuousClock.now - started < .seconds(8), "answered within the publish timeout")
                var readyWhileDown = true
                for _ in 0..<100 where readyWhileDown {
                    readyWhileDown = try await ready()
                    if readyWhileDown { try await Task.sleep(for: .milliseconds(50)) }  // polling an HTTP endpoint
                }
                #expect(!readyWhileDown, "/readyz reports the broker connection")

                try relay.restore()
                // The provider retries until it gets a 2xx; so does this loop (PayBridge reconnects with backoff).
                var status = 0
                for _ in 0..<100 where status != 200 {
                    status = try await post(callback("during"))
                    if status != 200 { try await Task.sleep(for: .milliseconds(100)) }  // the provider's retry interval
                }
                #expect(status == 200)
                #expect(try await ready())
                #expect(try await post(callback("after")) == 200)
                // Stored for a worker to confirm (this process only receives callbacks): before, the retry of
                // during, after, in that order; the 503 attempt was dropped unsent.
                let stored = try await storedNotifications(world, count: 3)
                let payments = stored.map { (try? JSONValue.parse($0.body))?["paymentID"]?.stringValue }
                #expect(payments == ["p-before", "p-during", "p-after"])
            }
        }
    }

    @Test func transientFailuresRetryToSuccessThroughTheDelayQueue() async throws {
        try await EndToEnd.run { world in
            try await world.withPayBridge { runtime in
                let paymentId = "retry-\(UUID().uuidString.prefix(8))"
                // The client tries twice in-process (fast policy); 3 failures force one broker-side retry.
                world.sandbox.addFault(SandboxFault(provider: "amanpay", operation: "payout", paymentId: paymentId,
                                                    times: 3, httpStatus: 503))
                let id = try await world.send(.amanpayPayout, data: payoutData(paymentId))
                let response = try await world.events.first(type: OutcomeEvents.responseType, commandId: id,
                                                             timeout: .seconds(30))
                expectValid(response)
                #expect(response.data["attempts"] == .number(JSONNumber(2)))
                #expect(world.sandbox.amanpayPayment(paymentId: paymentId, type: "payout") != nil)
                #expect(runtime.metrics.exposition().contains("paybridge_retries_total{provider=\"amanpay\",account=\"default\"} 1"))
            }
        }
    }

    @Test func retriesExhaustedPublishesCommandFailedAndDeadLetters() async throws {
        try await EndToEnd.run { world in
            try await world.withPayBridge(try world.configuration(maxAttempts: 2)) { _ in
                let paymentId = "exhaust-\(UUID().uuidString.prefix(8))"
                world.sandbox.addFault(SandboxFault(provider: "amanpay", operation: "payout", paymentId: paymentId,
                                                    httpStatus: 500))
                let id = try await world.send(.amanpayPayout, data: payoutData(paymentId))
                let failed = try await world.events.first(type: OutcomeEvents.commandFailedType, commandId: id,
                                                          timeout: .seconds(30))
                expectValid(failed)
                #expect(failed.data["error"]?["class"]?.stringValue == "retries_exhausted")
                #expect(failed.data["status"]?.stringValue == "unknown", "a create that may exist is never 'failed'")
                #expect(failed.routingKey == "amanpay.payout.failed")
                let dead = try await deadLetters(world, count: 1)
                #expect(dead.first?.properties.headers?[Topology.Headers.deadLetterReason]?.stringValue == "retries_exhausted")
                #expect(dead.first?.properties.headers?[Topology.Headers.attempt]?.intValue == 2)
            }
        }
    }

    @Test func ambiguousCreateIsReconciledWithoutADuplicatePayment() async throws {
        try await EndToEnd.run { world in
            try await world.withPayBridge(try world.configuration(requestTimeout: .milliseconds(500))) { _ in
                let paymentId = "amb-\(UUID().uuidString.prefix(8))"
                // The sandbox creates the payment, then hangs past the client's timeout: an ambiguous create.
                world.sandbox.addFault(SandboxFault(provider: "amanpay", operation: "purchase", paymentId: paymentId,
                                                    times: 1, hangAfterProcessingMs: 1500, initialStatus: "REDIRECT"))
                let id = try await world.send(.amanpayPurchase, data: purchaseData(paymentId))
                let response = try await world.events.first(type: OutcomeEvents.responseType, commandId: id)
                expectValid(response)
                #expect(response.status == "requires_action")
                let creates = world.sandbox.receivedRequests().filter {
                    $0.provider == "amanpay" && $0.operation == "purchase" && $0.paymentId == paymentId
                }
                #expect(creates.count == 1, "the create was sent once; the status read settled it")
                #expect(world.sandbox.receivedRequests().contains {
                    $0.operation == "status" && $0.paymentId == paymentId })
            }
        }
    }

    @Test func duplicateCommandNeverCreatesTwice() async throws {
        try await EndToEnd.run { world in
            try await world.withPayBridge { _ in
                let merchantPaymentId = "dup-\(UUID().uuidString.prefix(8))"
                let id = "cmd-dup-\(UUID().uuidString.prefix(8))"
                _ = try await world.send(.firstpayPayIn, id: id, data: firstpayPaymentData(merchantPaymentId))
                _ = try await world.events.first(type: OutcomeEvents.responseType, commandId: id)
                _ = try await world.send(.firstpayPayIn, id: id, data: firstpayPaymentData(merchantPaymentId))
                try await world.events.wait {
                    $0.filter { $0.commandId == id && $0.event.type == OutcomeEvents.responseType }.count == 2
                }
                let creates = world.sandbox.receivedRequests().filter {
                    $0.provider == "firstpay" && $0.operation == "pay_in" && $0.paymentId == merchantPaymentId
                }
                #expect(creates.count == 1)
                let responses = world.events.forCommand(id).filter { $0.event.type == OutcomeEvents.responseType }
                #expect(responses[0].event.id == responses[1].event.id, "same fact, same event id: consumers de-duplicate")
            }
        }
    }

    @Test func configurationFailurePausesTheProviderWithoutBurningCommands() async throws {
        try await EndToEnd.run { world in
            var configuration = try world.configuration()
            configuration.amanpay?.secretKey = "not-the-secret"
            try await world.withPayBridge(configuration) { runtime in
                let paymentId = "cfg-\(UUID().uuidString.prefix(8))"
                let id = try await world.send(.amanpayPurchase, data: purchaseData(paymentId))
                let adminPort = await runtime.adminPort()
                let http = HTTPClient(eventLoopGroupProvider: .singleton)
                defer { _ = http.shutdown() }
                // Readiness turns red once the worker paused Amanpay; the command is not failed.
                var ready = true
                for _ in 0..<200 where ready {
                    let response = try await http.execute(
                        HTTPClientRequest(url: "http://127.0.0.1:\(adminPort)/readyz"), timeout: .seconds(5))
                    ready = response.status == .ok
                    if ready { try await Task.sleep(for: .milliseconds(50)) }  // polling an HTTP endpoint
                }
                #expect(!ready)
                #expect(world.events.forCommand(id).isEmpty, "a configuration failure burns no command")
                // FirstPay is unaffected.
                let other = try await world.send(.firstpayPayOut, data: firstpayPaymentData("cfg-fp-\(paymentId)"))
                _ = try await world.events.first(type: OutcomeEvents.responseType, commandId: other)
            }
            let state = try await world.client.declare(AMQPQueue(Topology.commandQueue(.amanpay), passive: true))
            #expect(state.messageCount == 1, "the command is back in its queue")
        }
    }
}

/// Signs a callback body the way Amanpay does (A2) with the sandbox's test secret.
enum AmanpayTestSigning {
    static func sign(_ body: String) -> String {
        let json = try! JSONValue.parse(body)
        return AmanpaySignature.signResponse(json, secret: "s3cr3t")
    }
}
