import AMQPValues
import Foundation
import PayBridgeRules
import PayBridgeTestKit
import PayBridgeContract
import PaymentVocabulary
import StrictJSON
import Testing

/// The reconciliation rules (quiet payments are reconciled), one test per rule, as exact plans:
/// no broker, no provider, no clock.
@Suite struct ReconciliationRulesTests {
    typealias Fixtures = CommandDeliveryFixtures
    static let schedule = try! ReconcileSchedule(parsing: "1m,5m,1h")
    let rules: DeliveryRules = {
        var rules = DeliveryRules(provider: .amanpay, maxAttempts: 3)
        rules.reconcileSchedule = schedule
        return rules
    }()
    let time = Fixtures.time

    static func read(_ providerStatus: String, _ status: PaymentStatus, transactionId: String? = "62861")
        -> ProviderResult
    {
        let raw = #"{"transactionId":"62861","paymentID":"payment_812","status":"\#(providerStatus)","amount":250.51,"#
            + #""currency":"BDT"}"#
        return ProviderResult(
            provider: .amanpay, operation: "status", status: status, providerStatus: providerStatus,
            providerPaymentId: transactionId, merchantPaymentId: "payment_812", amount: DecimalAmount("250.51"),
            currency: "BDT", rawBody: raw, rawJSON: try? JSONValue.parse(raw))
    }

    static func check(step: Int, status: PaymentStatus = .requiresAction, providerStatus: String? = "REDIRECT")
        -> ReconcileCheck
    {
        ReconcileCheck(kind: .amanpayPurchase, commandId: "cmd-1", paymentId: "payment_812",
                       providerPaymentId: "62861", status: status, providerStatus: providerStatus, step: step,
                       openSince: "2026-11-18T11:00:00.000Z")
    }

    func executed(_ delivery: CommandDelivery, _ execution: CommandExecution) throws -> DeliveryPlan {
        let command = try rules.decode(delivery).get()
        return rules.plan(executed: command, delivery: delivery, execution: execution, at: time)
    }

    // MARK: Which outcomes start a chain

    @Test(arguments: [
        ("REDIRECT", PaymentStatus.requiresAction), ("PENDING", .processing), ("NEED_CHECK", .underReview),
    ])
    func aCreateLeftOpenSchedulesTheFirstCheck(_ providerStatus: String, _ status: PaymentStatus) throws {
        let plan = try executed(Fixtures.purchase(), .answered(Self.read(providerStatus, status)))
        #expect(plan.verdict == .answered(status: status))
        let next = try #require(plan.nextCheck, "an open payment is looked at again")
        #expect(next.queue == "payments.reconcile.amanpay.1m", "the schedule's first delay")
        #expect(next.check == ReconcileCheck(
            kind: .amanpayPurchase, commandId: "cmd-1", paymentId: "payment_812",
            providerPaymentId: "62861", status: status, providerStatus: providerStatus, amount: "250.51",
            currency: "BDT", step: 1, openSince: Fixtures.timeText))
    }

    @Test func aCreateWhoseOutcomeStayedUnknownSchedulesTheFirstCheck() throws {
        // Transient failures through the last attempt: command.failed with status unknown; the create may exist.
        let plan = try executed(Fixtures.purchase(attempt: 3), .providerFailed(Fixtures.failure(.transient, "TIMEOUT")))
        #expect(plan.verdict == .failed(code: "TIMEOUT", errorClass: .retriesExhausted))
        #expect(plan.events.first?.event.data?["status"] == "unknown")
        let next = try #require(plan.nextCheck)
        #expect(next.check.status == .unknown && next.check.providerPaymentId == nil && next.check.step == 1)
        if case .deadLetter = plan.republish {} else { Issue.record("the command is still dead-lettered") }
    }

    @Test func aFinalOutcomeADeclineOrAStatusCommandStartsNoChain() throws {
        #expect(try executed(Fixtures.purchase(), .answered(Self.read("SUCCESS", .succeeded))).nextCheck == nil)
        #expect(try executed(Fixtures.purchase(), .answered(Self.read("FAILED", .failed))).nextCheck == nil)
        #expect(try executed(Fixtures.status(), .answered(Self.read("REDIRECT", .requiresAction))).nextCheck == nil,
                "a status command is the producer's own read")
        #expect(try executed(Fixtures.purchase(attempt: 1), .providerFailed(Fixtures.failure(.transient, "TIMEOUT")))
            .nextCheck == nil, "a retry is scheduled instead; the chain starts with the outcome")
    }

    @Test func anOffScheduleStartsNoChain() throws {
        let rules = DeliveryRules(provider: .amanpay, maxAttempts: 3)  // off unless set
        let delivery = Fixtures.purchase()
        let command = try rules.decode(delivery).get()
        let plan = rules.plan(executed: command, delivery: delivery,
                              execution: .answered(Self.read("REDIRECT", .requiresAction)), at: time)
        #expect(plan.nextCheck == nil && plan.events.count == 1)
    }

    // MARK: What a check does

    @Test func anUnchangedOpenStatusSchedulesTheNextCheckAndPublishesNothing() throws {
        let plan = rules.plan(check: Self.check(step: 1), result: .success(Self.read("REDIRECT", .requiresAction)),
                              at: time)
        #expect(plan.events.isEmpty && plan.republish == nil && plan.disposition == .ack)
        #expect(plan.verdict == .reconciled(.unchanged))
        #expect(plan.nextCheck == ScheduledCheck(check: Self.check(step: 2), queue: "payments.reconcile.amanpay.5m"))
    }

    @Test func aFinalStatusIsPublishedForTheCommandAndEndsTheChain() throws {
        let plan = rules.plan(check: Self.check(step: 2), result: .success(Self.read("SUCCESS", .succeeded)), at: time)
        #expect(plan.verdict == .reconciled(.changed) && plan.nextCheck == nil && plan.disposition == .ack)
        let event = try #require(plan.events.first)
        #expect(plan.events.count == 1)
        #expect(event.event.type == OutcomeEvents.responseType && event.routingKey == "amanpay.purchase.response")
        let data = try #require(event.event.data)
        #expect(data["commandId"] == "cmd-1" && data["operation"] == "purchase" && data["paymentId"] == "payment_812")
        #expect(data["status"] == "succeeded" && data["final"] == true && data["providerStatus"] == "SUCCESS")
        #expect(data["reconciliation"] == .object([
            "check": .number(JSONNumber(2)), "of": .number(JSONNumber(3)),
            "openSince": "2026-11-18T11:00:00.000Z",
        ]))
        #expect(event.event.time == Fixtures.timeText, "time = when the read answered")
        #expect(OutcomeEvents.validate(event.event).isEmpty)
    }

    @Test func theSameChangeSeenByTwoChainsHasOneIdAndEachCheckItsOwn() throws {
        let success = Result<ProviderResult, ProviderError>.success(Self.read("SUCCESS", .succeeded))
        let first = rules.plan(check: Self.check(step: 2), result: success, at: time)
        let again = rules.plan(check: Self.check(step: 2), result: success, at: time.addingTimeInterval(5))
        let later = rules.plan(check: Self.check(step: 3), result: success, at: time)
        #expect(first.events.first?.event.id == again.events.first?.event.id, "the same observation, the same id")
        #expect(first.events.first?.event.id != later.events.first?.event.id)
    }

    @Test func aChangeThatLeavesThePaymentOpenIsPublishedAndTheChainGoesOn() throws {
        let plan = rules.plan(check: Self.check(step: 1), result: .success(Self.read("PENDING", .processing)), at: time)
        #expect(plan.verdict == .reconciled(.changed))
        #expect(plan.events.first?.event.data?["status"] == "processing")
        #expect(plan.nextCheck?.check == Self.check(step: 2, status: .processing, providerStatus: "PENDING"))
    }

    @Test func stillOpenAfterTheLastCheckIsUnresolved() throws {
        let plan = rules.plan(check: Self.check(step: 3), result: .success(Self.read("REDIRECT", .requiresAction)),
                              at: time)
        #expect(plan.verdict == .reconciled(.unresolved) && plan.nextCheck == nil)
        let event = try #require(plan.events.first)
        #expect(plan.events.count == 1)
        #expect(event.event.type == "paybridge.payment.unresolved.v1" && event.routingKey == "amanpay.unresolved")
        #expect(event.properties.correlationId == "cmd-1")
        #expect(event.event.data == .object([
            "commandId": "cmd-1", "provider": "amanpay", "account": "default", "operation": "purchase",
            "paymentId": "payment_812", "providerPaymentId": "62861", "status": "requires_action", "final": false,
            "providerStatus": "REDIRECT", "checks": .number(JSONNumber(3)), "openSince": "2026-11-18T11:00:00.000Z",
            "schedule": "1m,5m,1h",
        ]))
        #expect(OutcomeEvents.validate(event.event).isEmpty)
    }

    @Test func aChangeAtTheLastCheckThatIsStillOpenIsPublishedThenUnresolved() throws {
        let plan = rules.plan(check: Self.check(step: 3), result: .success(Self.read("PENDING", .processing)), at: time)
        #expect(plan.events.map(\.event.type) == [OutcomeEvents.responseType, OutcomeEvents.unresolvedType])
        #expect(plan.events.last?.event.data?["status"] == "processing")
    }

    @Test(arguments: [
        (ErrorClass.transient, "TIMEOUT"), (.notFound, "TRANSACTION_NOT_FOUND"),
        (.providerError, "INVALID_RESPONSE_SIGNATURE"),
    ])
    func aFailedReadPublishesNothingAndTheChainGoesOn(_ errorClass: ErrorClass, _ code: String) throws {
        let failure = Fixtures.failure(errorClass, code)
        let plan = rules.plan(check: Self.check(step: 1), result: .failure(failure), at: time)
        #expect(plan.events.isEmpty && plan.verdict == .reconciled(.readFailed))
        #expect(plan.nextCheck?.check == Self.check(step: 2), "what was known before the failed read")

        let last = rules.plan(check: Self.check(step: 3), result: .failure(failure), at: time)
        let data = try #require(last.events.first?.event.data)
        #expect(last.verdict == .reconciled(.unresolved))
        #expect(data["lastCheckError"]?["code"] == .string(code))
        #expect(data["lastCheckError"]?["class"] == .string(errorClass.rawValue))
        // The status the chain knew is stale by now: `unknown`, so it can never move a payment; it stays beside.
        #expect(data["status"] == "unknown")
        #expect(data["providerStatus"] == .null)
        #expect(data["lastObservedStatus"] == "requires_action" && data["lastObservedProviderStatus"] == "REDIRECT")
    }

    @Test func aChangeWhoseMoneyDiffersFromTheCommandsIsFlagged() throws {
        var check = Self.check(step: 1)
        check.amount = "250.51"
        check.currency = "BDT"
        var read = Self.read("SUCCESS", .succeeded)
        read.currency = "PKR"
        let plan = rules.plan(check: check, result: .success(read), at: time)
        let data = try #require(plan.events.first?.event.data)
        #expect(data["status"] == "succeeded")
        #expect(data["amountMismatch"] == ["command": "250.51", "commandCurrency": "BDT", "provider": "250.51",
                                           "providerCurrency": "PKR"])
        check.currency = "bdt"
        let same = rules.plan(check: check, result: .success(Self.read("SUCCESS", .succeeded)), at: time)
        #expect(same.events.first?.event.data?["amountMismatch"] == nil, "currency codes compare case-insensitively")
        #expect(try ReconcileCheck(body: check.body, provider: .amanpay) == check, "the check carries the money")
    }

    @Test func aRefusedConfigurationOrAnOpenCircuitPutsTheCheckBackAndPauses() throws {
        let refused = rules.plan(check: Self.check(step: 1),
                                 result: .failure(Fixtures.failure(.configuration, "INVALID_SIGNATURE")), at: time)
        #expect(refused.verdict == .pausedForConfiguration(code: .init(rawValue: "INVALID_SIGNATURE")) && refused.events.isEmpty)
        #expect(refused.nextCheck == nil)
    }

    @Test func aScheduleShortenedSinceTheCheckWasScheduledEndsAtItsNewLength() throws {
        let plan = rules.plan(check: Self.check(step: 7), result: .success(Self.read("REDIRECT", .requiresAction)),
                              at: time)
        #expect(plan.verdict == .reconciled(.unresolved))
    }

    @Test func aCheckWhileTheScheduleIsOffIsDroppedUnread() {
        #expect(rules.planCheckWhileOff() == DeliveryPlan(disposition: .ack, verdict: .reconciled(.off)))
    }

    // MARK: The check message

    @Test func aCheckRoundTripsThroughItsMessage() throws {
        let check = Self.check(step: 2)
        #expect(try ReconcileCheck(body: check.body, provider: .amanpay) == check)
        let headers = check.properties.headers
        #expect(headers?["x-paybridge-notification"]?.stringValue == "reconcile")
        #expect(headers?["x-paybridge-original-routing-key"]?.stringValue == "amanpay.reconcile")
        #expect(check.properties.persistent == true)
        let delivery = CommandDelivery(body: check.body, properties: check.properties, routingKey: "amanpay",
                                       exchange: Topology.retryReturnExchange)
        #expect(ReconcileCheck.isCheck(delivery) && !CallbackNotification.isNotification(delivery))
    }

    @Test(arguments: [
        #"not json"#, #"[]"#, #"{"provider":"firstpay"}"#,
        #"{"provider":"amanpay","commandId":"c","operation":"status","paymentId":"p","status":"processing","step":1,"openSince":"2026-11-18T11:00:00.000Z"}"#,
        #"{"provider":"amanpay","commandId":"c","operation":"purchase","paymentId":"p","status":"succeeded","step":1,"openSince":"2026-11-18T11:00:00.000Z"}"#,
        #"{"provider":"amanpay","commandId":"c","operation":"purchase","paymentId":"p","status":"processing","step":0,"openSince":"2026-11-18T11:00:00.000Z"}"#,
        #"{"provider":"amanpay","commandId":"c","operation":"purchase","paymentId":"p","status":"processing","step":1e400,"openSince":"2026-11-18T11:00:00.000Z"}"#,
        #"{"provider":"amanpay","commandId":"c","operation":"purchase","paymentId":"p","status":"processing","step":1,"openSince":"yesterday"}"#,
        #"{"provider":"amanpay","commandId":"","operation":"purchase","paymentId":"p","status":"processing","step":1,"openSince":"2026-11-18T11:00:00.000Z"}"#,
    ])
    func aMarkedMessageThatIsNotACheckIsDeadLetteredNotRun(_ body: String) throws {
        #expect(throws: ReconcileCheck.Invalid.self) { try ReconcileCheck(body: Array(body.utf8), provider: .amanpay) }
        let delivery = CommandDelivery(body: Array(body.utf8), properties: Self.check(step: 1).properties,
                                       routingKey: "amanpay", exchange: Topology.retryReturnExchange)
        let plan = rules.plan(invalidCheck: .init(description: "x"), delivery: delivery, at: time)
        guard case .deadLetter(let deadLetter)? = plan.republish else {
            Issue.record("dead-lettered")
            return
        }
        #expect(deadLetter.body == Array(body.utf8) && plan.events.isEmpty)
        #expect(deadLetter.properties.headers?[Topology.Headers.deadLetterCode]?.stringValue == "RECONCILE_CHECK_INVALID")
        #expect(plan.verdict == .reconciled(.invalid))
    }

    @Test func anOversizedCheckIsRefusedBeforeItIsParsed() {
        let body = Array(repeating: UInt8(ascii: " "), count: ReconcileCheck.maximumBytes + 1)
        #expect(throws: ReconcileCheck.Invalid(description: "larger than \(ReconcileCheck.maximumBytes) bytes")) {
            try ReconcileCheck(body: body, provider: .amanpay)
        }
    }
}
