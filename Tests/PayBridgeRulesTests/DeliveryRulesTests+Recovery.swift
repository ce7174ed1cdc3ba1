import AMQPValues
import PayBridgeRules
import PayBridgeTestKit
import PayBridgeContract
import PayBridgeTools
import PaymentVocabulary
import Testing

/// The delivery rules for unusable answers, status-first and put-backs.
extension DeliveryRulesTests {
    // MARK: Unusable answers (provider_error)

    @Test func aBadResponseSignatureIsRetriedBrokerSideNotAPauseOfTheProvider() throws {
        let delivery = Fixtures.purchase()
        let plan = try decide(delivery, .providerFailed(Fixtures.failure(.providerError, "INVALID_RESPONSE_SIGNATURE")))
        #expect(plan.events.isEmpty)
        #expect(plan.disposition == .ack)
        #expect(plan.verdict == .retryScheduled(code: "INVALID_RESPONSE_SIGNATURE"))
        guard case .retry(let retry)? = plan.republish else {
            Issue.record("expected a retry, got \(String(describing: plan.republish))")
            return
        }
        #expect(retry.nextAttempt == 2)
    }

    @Test func aBadResponseSignatureOnTheLastAttemptGivesUpAsProviderErrorAndACreateStaysUnknown() throws {
        let delivery = Fixtures.purchase(attempt: 3)
        let plan = try decide(delivery, .providerFailed(Fixtures.failure(.providerError, "INVALID_RESPONSE_SIGNATURE")))
        #expect(plan.verdict == .failed(code: "INVALID_RESPONSE_SIGNATURE", errorClass: .providerError))
        let failed = try #require(plan.events.first)
        #expect(failed.event.type == "paybridge.command.failed.v1")
        #expect(failed.event.data?["status"] == "unknown", "the create may have taken effect")
        #expect(failed.event.data?["error"]?["class"] == "provider_error")
        guard case .deadLetter(let deadLetter)? = plan.republish else {
            Issue.record("expected a dead letter, got \(String(describing: plan.republish))")
            return
        }
        #expect(deadLetter.reason == .providerError)
    }

    @Test func aStreakOfBadSignaturesPausesLikeAConfigurationFailure() {
        let plan = rules.planPause(forBadSignatures: 5)
        #expect(plan == DeliveryPlan(
            disposition: .putBackAndPause(reason: "5 consecutive commands got responses whose signature does not verify"),
            verdict: .pausedForConfiguration(code: .invalidResponseSignature)))
    }

    @Test func commandDataTheProviderRequestCannotBeBuiltFromFailsAndIsDeadLettered() throws {
        let delivery = Fixtures.purchase()
        let dataError = CommandDataError(field: "amount", problem: "not a decimal amount")
        let plan = try decide(delivery, .invalidData(dataError))
        #expect(plan.events.map(\.event.type) == ["paybridge.command.failed.v1"])
        #expect(plan.events.first?.event.data?["error"]?["code"] == "INVALID_COMMAND_DATA")
        #expect(plan.events.first?.event.data?["status"] == "unknown")
        #expect(plan.events.first?.event.data?["final"] == false)
        #expect(plan.verdict == .failed(code: "INVALID_COMMAND_DATA", errorClass: .invalidCommand))
        guard case .deadLetter(let deadLetter) = plan.republish else {
            Issue.record("expected a dead letter, got \(String(describing: plan.republish))")
            return
        }
        #expect(deadLetter.detail == "data.amount: not a decimal amount")
        #expect(deadLetter.reason == .invalidCommand)
    }

    @Test func aDeadLetterDetailIsClippedTo1024UTF8Bytes() throws {
        let delivery = Fixtures.purchase()
        var error = Fixtures.failure(.invalidCommand, "INVALID_REQUEST")
        error.message = String(repeating: "é", count: 3000)
        let plan = try decide(delivery, .providerFailed(error))
        guard case .deadLetter(let deadLetter) = plan.republish else {
            Issue.record("expected a dead letter, got \(String(describing: plan.republish))")
            return
        }
        #expect(deadLetter.detail == String(repeating: "é", count: 512), "2 bytes each: 1,024 bytes")
        #expect(deadLetter.properties.headers?["x-paybridge-dead-letter-detail"] == .string(deadLetter.detail))
        #expect(plan.events.first?.event.data?["error"]?["message"]?.stringValue?.count == 3000,
                "the event keeps the whole message")
    }

    // MARK: Status-first and put-back

    @Test func onlyACreateThatMayHaveBeenSentBeforeGoesStatusFirst() throws {
        let first = Fixtures.purchase()
        let create = try command(first)
        #expect(!rules.statusFirst(create, delivery: first, seenBefore: false))
        #expect(rules.statusFirst(create, delivery: first, seenBefore: true))
        #expect(rules.statusFirst(create, delivery: Fixtures.purchase(redelivered: true), seenBefore: false))
        #expect(rules.statusFirst(create, delivery: Fixtures.purchase(attempt: 2), seenBefore: false))
        let status = Fixtures.status(attempt: 2)
        #expect(!rules.statusFirst(try command(status), delivery: status, seenBefore: true),
                "a status read creates nothing")
    }

    @Test func aReplayedCreateGoesStatusFirstWithAFullSetOfAttempts() throws {
        // `dead-letters replay` used to drop the attempt header and nothing else told the worker.
        var properties = Fixtures.delivery([]).properties
        properties.headers = [Topology.Headers.attempt: .int32(5),
                              Topology.Headers.originalRoutingKey: .string("amanpay.purchase"),
                              Topology.Headers.deadLetterReason: .string("retries_exhausted"),
                              "traceparent": .string("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")]
        let deadLetter = DeadLetter(routingKey: "payments.retry.amanpay.4", properties: properties,
                                    body: Fixtures.body(.amanpayPurchase, data: Fixtures.purchaseData))
        var replayed = properties
        replayed.headers = deadLetter.replayHeaders
        #expect(replayed.headers?[Topology.Headers.replayed] == .bool(true))
        #expect(replayed.headers?[Topology.Headers.attempt] == nil)
        #expect(replayed.headers?["traceparent"] != nil)
        replayed.headers?[Topology.Headers.originalRoutingKey] = .string(try #require(deadLetter.replayRoutingKey))
        let delivery = CommandDelivery(body: deadLetter.body, properties: replayed,
                                       routingKey: Topology.commandQueue(.amanpay), exchange: Topology.internalExchange)
        #expect(delivery.attempt == 1)
        #expect(delivery.headers.replayed)
        #expect(rules.statusFirst(try command(delivery), delivery: delivery, seenBefore: false))
        let status = Fixtures.status()
        var replayedStatus = status.properties
        replayedStatus.headers = [Topology.Headers.replayed: .bool(true)]
        let statusDelivery = CommandDelivery(body: status.body, properties: replayedStatus, routingKey: "amanpay.status",
                                             exchange: Topology.internalExchange)
        #expect(!rules.statusFirst(try command(statusDelivery), delivery: statusDelivery, seenBefore: false),
                "a status read creates nothing")
    }

    @Test func aPutBackKeepsTheAttemptAndTurnsARedeliveryIntoASecondAttempt() {
        #expect(Fixtures.purchase().putBackProperties()
            == Fixtures.forwardedProperties(attempt: 1, originalRoutingKey: "amanpay.purchase"))
        #expect(Fixtures.purchase(redelivered: true).putBackProperties()
            == Fixtures.forwardedProperties(attempt: 2, originalRoutingKey: "amanpay.purchase"))
        #expect(Fixtures.purchase(attempt: 4, redelivered: true).putBackProperties()
            == Fixtures.forwardedProperties(attempt: 4, originalRoutingKey: "amanpay.purchase"))
    }
}
