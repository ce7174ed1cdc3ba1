import Testing

@testable import PayBridgeContract

@Suite struct TopologyTests {
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
            #expect(PaymentCommandKind(provider: kind.provider, operation: kind.operation) == kind)
            #expect(kind.type == "paybridge.\(kind.provider.rawValue).\(kind.operation).v1")
        }
        #expect(PaymentCommandKind(type: "paybridge.firstpay.pay_in.v2") == nil)
        #expect(Provider.amanpay.commandKinds.map(\.operation) == ["purchase", "payout", "status", "specify"])
        #expect(Provider.firstpay.commandKinds.map(\.operation) == ["pay_in", "pay_out", "status", "sms"])
    }
}
