import Foundation
import PaymentVocabulary
import Testing

@testable import PayBridgeContract

@Suite struct TopologyTests {
    @Test func payBridgeHeadersAreTheXPayBridgePrefixInAnyLetterCaseAndInternalRoutesArePayBridgesOwn() {
        for name in ["x-paybridge-attempt", "X-PayBridge-Notification", "X-PAYBRIDGE", "x-paybridgeX"] {
            #expect(Topology.isPayBridgeHeader(name), "\(name)")
        }
        for name in ["x-paybridg", "x_paybridge-attempt", "x\rpaybridge-a", "traceparent", "", "y-paybridge-a",
                     "x-payb\u{0130}idge", "xx-paybridge"] {
            #expect(!Topology.isPayBridgeHeader(name), "\(name)")
        }
        #expect(Topology.isInternalRoute(exchange: Topology.internalExchange))
        #expect(Topology.isInternalRoute(exchange: Topology.retryReturnExchange))
        for exchange in [Topology.commandsExchange, "", "amq.direct", Topology.outcomesExchange] {
            #expect(!Topology.isInternalRoute(exchange: exchange), "\(exchange)")
        }
        #expect(Topology.commandQueue(for: "amanpay.purchase") == "payments.amanpay")
        #expect(Topology.commandQueue(for: "firstpay") == "payments.firstpay")
        #expect(Topology.commandQueue(for: "payments.amanpay") == nil)
    }

    @Test func pinnedNames() {
        #expect(Topology.commandsExchange == "payments.commands")
        #expect(Topology.outcomesExchange == "payments.outcomes")
        #expect(Topology.commandQueue(.amanpay) == "payments.amanpay")
        #expect(Topology.commandQueue(.firstpay) == "payments.firstpay")
        #expect(Topology.commandBindingKey(.firstpay) == "firstpay.*")
        #expect(Topology.deadLetterQueue == "payments.dead")
        #expect(Topology.Headers.attempt == "x-paybridge-attempt")
        #expect(Topology.responseRoutingKey(.firstpayPayIn) == "firstpay.pay_in.response")
        #expect(Topology.callbackRoutingKey(.amanpay) == "amanpay.callback")
    }

    @Test func retryQueuesAndStages() {
        #expect(Topology.retryQueue(.amanpay, stage: 1) == "payments.retry.amanpay.1")
        #expect(Topology.retryQueue(.firstpay, stage: 99) == "payments.retry.firstpay.5")
        #expect(Topology.retryStage(forAttempt: 2) == 1)
        #expect(Topology.retryStage(forAttempt: 4) == 3)
        #expect(Topology.retryStage(forAttempt: 40) == Topology.retryDelays.count)
        #expect(Topology.retryReturnRoutingKey(.amanpay) == "amanpay")
    }

    @Test func commandKindsMapBothWays() {
        #expect(PaymentCommandKind.allCases.count == 8)
        for kind in PaymentCommandKind.allCases {
            #expect(PaymentCommandKind(type: kind.type) == kind)
            #expect(PaymentCommandKind(routingKey: kind.routingKey) == kind)
            #expect(kind.rawValue == "\(kind.provider.rawValue).\(kind.operation)")
            #expect(PaymentCommandKind(provider: kind.provider, operation: kind.operation) == kind)
            #expect(kind.type == "paybridge.\(kind.provider.rawValue).\(kind.operation).v1")
        }
        #expect(PaymentCommandKind(type: "paybridge.firstpay.pay_in.v2") == nil)
        #expect(Provider.amanpay.commandKinds.map(\.operation) == ["purchase", "payout", "status", "specify"])
        #expect(Provider.firstpay.commandKinds.map(\.operation) == ["pay_in", "pay_out", "status", "sms"])
    }
}

@Suite struct DeadLetterHeadersTests {
    @Test func theDetailIsClippedByUTF8BytesNotCharacters() {
        // One character: a base and 5,000 combining marks (10,001 UTF-8 bytes); clipping by characters kept it whole.
        let marks = "e" + String(repeating: "\u{0301}", count: 5000)
        let clipped = Topology.Headers.clippedDetail("key " + marks + " rest")
        #expect(clipped.utf8.count <= Topology.Headers.maximumDetailLength)
        #expect(clipped.utf8.starts(with: "key e".utf8))
        #expect(Topology.Headers.clippedDetail("short") == "short")
        let wide = String(repeating: "€", count: 400)  // 1,200 bytes: clipped at a scalar, never inside one
        #expect(Topology.Headers.clippedDetail(wide) == String(repeating: "€", count: 341))
        let headers = Topology.deadLetterHeaders(reason: .invalidCommand, code: "SCHEMA_VIOLATION", detail: marks,
                                                 sourceQueue: "payments.amanpay", failedEventId: nil,
                                                 originalRoutingKey: nil)
        #expect((headers["x-paybridge-dead-letter-detail"]?.utf8.count ?? .max) <= 1024)
    }

    @Test func headersForARejectedCommand() throws {
        guard case .failure(let rejection) = CommandDecoder().decode(Array("{".utf8), routingKey: "amanpay.status")
        else {
            Issue.record("expected a rejection")
            return
        }
        let failed = OutcomeEvents.commandFailed(rejection: rejection, provider: .amanpay)
        let headers = Topology.deadLetterHeaders(
            reason: rejection.errorClass, code: rejection.code, detail: rejection.message + String(repeating: "x", count: 2000),
            sourceQueue: Topology.commandQueue(.amanpay), failedEventId: failed.event.id,
            originalRoutingKey: "amanpay.status", at: Date(timeIntervalSince1970: 0))
        #expect(headers["x-paybridge-dead-letter-reason"] == "invalid_command")
        #expect(headers["x-paybridge-dead-letter-code"] == "BAD_JSON")
        #expect(headers["x-paybridge-dead-letter-detail"]?.count == 1024)
        #expect(headers["x-paybridge-dead-lettered-at"] == "1970-01-01T00:00:00.000Z")
        #expect(headers["x-paybridge-source-queue"] == "payments.amanpay")
        #expect(headers["x-paybridge-failed-event-id"] == failed.event.id)
        #expect(headers["x-paybridge-original-routing-key"] == "amanpay.status")
    }
}
