import AMQPValues
import Foundation
import PayBridgeContract
import PayBridgeRules
import PayBridgeTestKit
import PaymentVocabulary
import Testing

/// The one walk every delivery takes, as values: its kind decided once, what settles it without a provider call,
/// and the plan after one as the worker's memory adjusts it.
@Suite struct DeliveryPipelineTests {
    typealias Fixtures = CommandDeliveryFixtures
    static let pk = MerchantAccount("pk")!
    let time = Fixtures.time
    let now = ContinuousClock.now

    static func rules(accounts: Set<MerchantAccount> = [.default], reconcile: ReconcileSchedule = .off) -> DeliveryRules {
        var rules = DeliveryRules(provider: .amanpay, maxAttempts: 3)
        rules.accounts = accounts
        rules.reconcileSchedule = reconcile
        return rules
    }

    static func memory(accounts: Set<MerchantAccount> = [.default], window: Duration = .seconds(30)) -> WorkerMemory {
        WorkerMemory(accounts: accounts, accountPause: (.seconds(5), .seconds(300)), badSignatureThreshold: 2,
                     notificationWindow: window)
    }

    static let notification = CallbackNotification(
        provider: .amanpay, body: Array(#"{"evidence":true}"#.utf8), signature: "sig",
        receivedAt: Date(timeIntervalSince1970: 1_795_000_000), id: "n-1")

    static func notificationDelivery(redelivered: Bool = false) -> CommandDelivery {
        CommandDelivery(body: notification.body, properties: notification.properties, routingKey: "payments.amanpay",
                        redelivered: redelivered, exchange: Topology.internalExchange)
    }

    static let check = ReconcileCheck(
        kind: .amanpayPurchase, commandId: "cmd-1", paymentId: "payment_812",
        providerPaymentId: "62861", status: .requiresAction, providerStatus: "REDIRECT", step: 1,
        openSince: "2026-11-18T11:00:00.000Z")

    static var checkDelivery: CommandDelivery {
        CommandDelivery(body: check.body, properties: check.properties, routingKey: "amanpay",
                        exchange: Topology.retryReturnExchange)
    }

    func admit(_ delivery: CommandDelivery, rules: DeliveryRules = rules(), memory: inout WorkerMemory)
        -> DeliveryRules.Admission
    {
        // The steps as the worker takes them: screen, then the memory's admission.
        let kind = rules.classify(delivery, receivedAt: time)
        let screened = rules.screen(kind, delivery: delivery, at: time)
        guard case .execute(let account) = screened else { return screened }
        return rules.admit(kind, account: account,
                           notificationKey: rules.notificationKey(kind, delivery: delivery, account: account),
                           delivery: delivery, memory: &memory, now: now)
    }

    func planned(_ admission: DeliveryRules.Admission) -> DeliveryPlan? {
        if case .planned(let plan) = admission { return plan }
        return nil
    }

    // MARK: The kind, once

    @Test func eachKindIsRecognisedOnceWithItsWords() throws {
        let rules = Self.rules()
        let command = rules.classify(Fixtures.purchase(), receivedAt: time)
        guard case .command(.success) = command else { throw Unexpected(what: "\(command)") }
        #expect(command.operation == "amanpay.purchase" && command.commandId == "cmd-1")
        let notification = rules.classify(Self.notificationDelivery(), receivedAt: time)
        guard case .notification(let read) = notification else { throw Unexpected(what: "\(notification)") }
        #expect(read.id == "n-1" && notification.operation == "callback" && notification.account == .default)
        let check = rules.classify(Self.checkDelivery, receivedAt: time)
        guard case .check(.success(let readCheck)) = check else { throw Unexpected(what: "\(check)") }
        #expect(readCheck == Self.check && check.operation == "reconcile" && readCheck.kind == .amanpayPurchase && check.commandId == "cmd-1")
    }

    @Test func aProducersMessageIsNeverANotificationWhateverItsHeaders() throws {
        let forged = CommandDelivery(body: Self.notification.body, properties: Self.notification.properties,
                                     routingKey: "amanpay.purchase")
        let kind = Self.rules().classify(forged, receivedAt: time)
        guard case .command(.failure) = kind else { throw Unexpected(what: "\(kind)") }
    }

    // MARK: Settled without a provider call

    @Test func whatCannotBeReadIsSettledWithoutACall() {
        var memory = Self.memory()
        let plan = planned(admit(Fixtures.delivery(Array("not json".utf8)), memory: &memory))
        #expect(plan?.verdict == .rejected(code: "BAD_JSON"))
        var bad = Self.checkDelivery.properties
        bad.headers?[Topology.Headers.notification] = .string("reconcile")
        let invalid = CommandDelivery(body: Array("{}".utf8), properties: bad, routingKey: "amanpay",
                                      exchange: Topology.retryReturnExchange)
        #expect(planned(admit(invalid, rules: Self.rules(reconcile: .default), memory: &memory))?.verdict
            == .reconciled(.invalid))
    }

    @Test func anAccountThisDeploymentDoesNotHaveIsDeadLetteredForEveryKind() {
        var memory = Self.memory(accounts: [Self.pk])
        let rules = Self.rules(accounts: [Self.pk], reconcile: .default)
        let command = planned(admit(Fixtures.purchase(), rules: rules, memory: &memory))
        #expect(command?.verdict == .failed(code: "UNKNOWN_ACCOUNT", errorClass: .invalidCommand))
        let notification = planned(admit(Self.notificationDelivery(), rules: rules, memory: &memory))
        #expect(notification?.verdict == .callbackNotPublished(code: "UNKNOWN_ACCOUNT", errorClass: .invalidCommand))
        let check = planned(admit(Self.checkDelivery, rules: rules, memory: &memory))
        #expect(check?.verdict == .reconciled(.invalid))
    }

    @Test func aPausedAccountsDeliveriesAreDeferredWhateverTheirKind() {
        var memory = Self.memory(accounts: [.default, Self.pk])
        let pause = DeliveryPlan(disposition: .putBackAndPause(reason: "INVALID_API_KEY"),
                                 verdict: .pausedForConfiguration(code: .init(rawValue: "INVALID_API_KEY")))
        _ = memory.planned(pause, account: .default, now: now)
        let rules = Self.rules(accounts: [.default, Self.pk], reconcile: .default)
        for delivery in [Fixtures.purchase(), Self.notificationDelivery(), Self.checkDelivery] {
            #expect(planned(admit(delivery, rules: rules, memory: &memory))?.verdict == .deferred(account: "default"))
        }
    }

    @Test func anIdenticalFirstNotificationIsAckedUnreadAndARedeliveryIsRead() {
        var memory = Self.memory()
        guard case .execute(let account) = admit(Self.notificationDelivery(), memory: &memory) else {
            Issue.record("the first one is read")
            return
        }
        #expect(account == .default)
        let second = planned(admit(Self.notificationDelivery(), memory: &memory))
        #expect(second == DeliveryPlan(disposition: .ack, verdict: .duplicateCallback(notificationId: "n-1")))
        if case .planned = admit(Self.notificationDelivery(redelivered: true), memory: &memory) {
            Issue.record("a redelivery is read even within the window")
        }
    }

    @Test func aCheckWhileReconciliationIsOffIsDroppedUnread() {
        var memory = Self.memory()
        #expect(planned(admit(Self.checkDelivery, memory: &memory))?.verdict == .reconciled(.off))
        guard case .execute = admit(Self.checkDelivery, rules: Self.rules(reconcile: .default), memory: &memory) else {
            Issue.record("with a schedule the check is read")
            return
        }
    }

    // MARK: After the call

    @Test func theLastOfARunOfBadSignaturesPausesOnlyItsAccount() throws {
        let accounts: Set<MerchantAccount> = [.default, Self.pk]
        let rules = Self.rules(accounts: accounts)
        var memory = Self.memory(accounts: accounts)
        func badSignature(_ id: String) throws -> (DeliveryPlan, Bool) {
            let delivery = Fixtures.delivery(Fixtures.body(.amanpayPurchase, id: id, data: Fixtures.purchaseData))
            let command = try rules.decode(delivery).get()
            let failure = Fixtures.failure(.providerError, "INVALID_RESPONSE_SIGNATURE")
            let execution = DeliveryExecution.command(command, .providerFailed(failure))
            return rules.adjust(rules.plan(execution, delivery: delivery, at: time), after: execution,
                                delivery: delivery, account: .default, memory: &memory, now: now)
        }
        let (first, firstPaused) = try badSignature("cmd-1")
        #expect(first.verdict == .retryScheduled(code: "INVALID_RESPONSE_SIGNATURE") && !firstPaused)
        let (second, secondPaused) = try badSignature("cmd-2")
        #expect(second.verdict == .deferred(account: "default") && secondPaused)
        let result1 = memory.arrived(account: .default, notificationKey: nil, now: now)
        #expect(result1 != .proceed)
        let result2 = memory.arrived(account: Self.pk, notificationKey: nil, now: now)
        #expect(result2 == .proceed)
    }

    @Test func aNotificationsPlanIsTheNotificationRulesPlan() {
        let rules = Self.rules()
        var memory = Self.memory()
        let failure = ProviderError(provider: .amanpay, operation: "status", errorClass: .notFound, code: .notFound,
                                    message: "no such payment")
        let execution = DeliveryExecution.notification(Self.notification, .failure(failure))
        let (plan, paused) = rules.adjust(rules.plan(execution, delivery: Self.notificationDelivery(), at: time),
                                          after: execution, delivery: Self.notificationDelivery(), account: .default,
                                          memory: &memory, now: now)
        #expect(!paused)
        #expect(plan == rules.plan(notification: Self.notification, delivery: Self.notificationDelivery(),
                                   result: .failure(failure), at: time))
    }
}
