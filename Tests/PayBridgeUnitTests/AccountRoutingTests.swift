import AMQP
import Logging
@testable import PayBridge
import PayBridgeRules
import PayBridgeTestKit
import PayBridgeContract
import PaymentVocabulary
import ProviderCore
import Testing

/// In ``CommandProcessor`` and ``DeliveryRules``, without a broker: commands go to their account's
/// executor; an account whose key is refused is paused (its deliveries deferred, attempt unchanged) while the other
/// account's commands go on; an account this deployment does not have is dead-lettered.
@Suite struct AccountRoutingTests {
    typealias Fixtures = CommandDeliveryFixtures
    static let bd = MerchantAccount("bd")!
    static let pk = MerchantAccount("pk")!

    static let answered = ProviderResult(
        provider: .amanpay, operation: "purchase", status: .processing, providerStatus: "PENDING",
        merchantPaymentId: "payment_812")

    func processor(good: ScriptedCommandExecutor, bad: ScriptedCommandExecutor, sink: RecordingOutcomeSink)
        -> CommandProcessor
    {
        CommandProcessor(
            executor: good, accounts: [Self.bd: good, Self.pk: bad], sink: sink,
            gate: OutcomeGate(readiness: Readiness()), metrics: PayBridgeMetrics(), maxAttempts: 3,
            outcomeRetry: OutcomeRetry(initialDelay: .milliseconds(1), maximumDelay: .milliseconds(4)),
            logger: Logger(label: "paybridge.test"))
    }

    static func purchase(_ id: String, account: String?) -> CommandDelivery {
        let accountMember = account.map { #","account":"\#($0)""# } ?? ""
        let data = #"{"paymentId":"p-\#(id)","amount":"250.51","currency":"BDT","customerEmail":"a@b.c"\#(accountMember)}"#
        return Fixtures.delivery(Fixtures.body(.amanpayPurchase, id: id, data: data))
    }

    @Test func aRefusedKeyPausesItsAccountWhileTheOtherAccountsCommandsGoOn() async {
        let sink = RecordingOutcomeSink()
        let good = ScriptedCommandExecutor { Self.answered }
        let bad = ScriptedCommandExecutor { throw Fixtures.failure(.configuration, "INVALID_API_KEY") }
        let processor = processor(good: good, bad: bad, sink: sink)

        #expect(await processor.process(Self.purchase("pk-1", account: "pk")) == .ack)
        #expect(await processor.process(Self.purchase("bd-1", account: "bd")) == .ack)
        #expect(await processor.process(Self.purchase("pk-2", account: "pk")) == .ack)
        #expect(await processor.process(Self.purchase("bd-2", account: "bd")) == .ack)

        #expect(bad.statusFirstCalls.count == 1, "a paused account's next command never reaches the provider")
        #expect(good.statusFirstCalls.count == 2)
        let responses = sink.events.filter { $0.event.type == OutcomeEvents.responseType }
        #expect(responses.compactMap { $0.event.data?["commandId"]?.stringValue } == ["bd-1", "bd-2"])
        #expect(responses.allSatisfy { $0.event.data?["account"]?.stringValue == "bd" })
        let deferred = sink.published.compactMap { if case .retry(let retry) = $0 { retry } else { nil } }
        #expect(deferred.map(\.queue) == [Topology.retryQueue(.amanpay, stage: 1), Topology.retryQueue(.amanpay, stage: 1)])
        #expect(deferred.allSatisfy { $0.nextAttempt == 1 }, "a deferral uses no attempt")
        #expect(deferred.map(\.body) == [Self.purchase("pk-1", account: "pk").body, Self.purchase("pk-2", account: "pk").body])
        #expect(processor.memory.withLock { $0.pauses.isPaused(Self.pk, now: .now) })
        #expect(!processor.memory.withLock { $0.pauses.isPaused(Self.bd, now: .now) })
        #expect(!sink.events.contains { $0.event.type == OutcomeEvents.commandFailedType }, "nothing is burned")
    }

    @Test func whenEveryAccountIsRefusedTheQueueIsPausedAsBefore() async {
        let sink = RecordingOutcomeSink()
        let bad = ScriptedCommandExecutor { throw Fixtures.failure(.configuration, "INVALID_API_KEY") }
        let processor = processor(good: bad, bad: bad, sink: sink)
        #expect(await processor.process(Self.purchase("pk-1", account: "pk")) == .ack)
        #expect(await processor.process(Self.purchase("bd-1", account: "bd"))
                    == .putBackAndPause(reason: "configuration: INVALID_API_KEY"))
    }

    @Test func anUnknownAccountIsDeadLetteredWithItsReasonAndTheDefaultIsNotAssumed() async throws {
        let sink = RecordingOutcomeSink()
        let good = ScriptedCommandExecutor { Self.answered }
        let processor = processor(good: good, bad: good, sink: sink)
        #expect(await processor.process(Self.purchase("x-1", account: "nope")) == .ack)
        #expect(await processor.process(Self.purchase("x-2", account: nil)) == .ack, "no default account here")
        #expect(good.statusFirstCalls.isEmpty)
        let failed = sink.events.filter { $0.event.type == OutcomeEvents.commandFailedType }
        #expect(failed.count == 2)
        for event in failed {
            #expect(event.event.data?["error"]?["code"]?.stringValue == "UNKNOWN_ACCOUNT")
            #expect(event.event.data?["error"]?["class"]?.stringValue == "invalid_command")
            #expect(OutcomeEvents.validate(event.event).isEmpty)
        }
        #expect(failed.first?.event.data?["account"]?.stringValue == "nope")
        let dead = sink.published.compactMap { if case .deadLetter(let letter) = $0 { letter } else { nil } }
        #expect(dead.count == 2)
        #expect(dead.allSatisfy { $0.code == "UNKNOWN_ACCOUNT" && $0.reason == .invalidCommand })
    }

    @Test func aCommandWithoutAnAccountIsTheDefaultAccounts() async {
        let sink = RecordingOutcomeSink()
        let executor = ScriptedCommandExecutor { Self.answered }
        let processor = CommandProcessor(
            executor: executor, sink: sink, gate: OutcomeGate(readiness: Readiness()), metrics: PayBridgeMetrics(),
            maxAttempts: 3, outcomeRetry: OutcomeRetry(initialDelay: .milliseconds(1), maximumDelay: .milliseconds(4)),
            logger: Logger(label: "paybridge.test"))
        #expect(await processor.process(Self.purchase("d-1", account: nil)) == .ack)
        #expect(await processor.process(Self.purchase("d-2", account: "default")) == .ack)
        #expect(executor.statusFirstCalls.count == 2)
        #expect(sink.events.allSatisfy { $0.event.data?["account"]?.stringValue == "default" })
    }

    // MARK: Metrics: made-up account names add no series

    /// A reconciliation check and a callback notification naming `account`, as the broker hands them back.
    static func check(_ id: String, account: String) -> CommandDelivery {
        let check = ReconcileCheck(
            kind: .amanpayPurchase, account: MerchantAccount(account)!, commandId: id,
            paymentId: "p-\(id)", providerPaymentId: "62861", status: .processing, providerStatus: "PENDING", step: 1,
            openSince: "2026-11-18T11:00:00.000Z")
        let properties = AMQPProperties(
            contentType: "application/json",
            headers: [Topology.Headers.notification: .string(ReconcileCheck.marker),
                      Topology.Headers.originalRoutingKey: .string("amanpay.purchase")],
            persistent: true, messageId: id)
        return CommandDelivery(body: check.body, properties: properties, routingKey: "amanpay",
                               redelivered: false, deliveryTag: 9, exchange: Topology.retryReturnExchange)
    }

    static func notification(_ id: String, account: String) -> CommandDelivery {
        let notification = CallbackNotification(
            provider: .amanpay, account: MerchantAccount(account)!, body: Array(#"{"paymentID":"p"}"#.utf8),
            signature: "sig", receivedAt: Fixtures.time, id: id)
        return CommandDelivery(body: notification.body, properties: notification.properties,
                               routingKey: notification.queue, redelivered: false, deliveryTag: 10,
                               exchange: Topology.internalExchange)
    }

    @Test func commandsChecksAndCallbacksNamingUnconfiguredAccountsAreCountedUnderTheOneLabelUnknown() async throws {
        let sink = RecordingOutcomeSink()
        let good = ScriptedCommandExecutor { Self.answered }
        let metrics = PayBridgeMetrics()
        let processor = CommandProcessor(
            executor: good, accounts: [Self.bd: good, Self.pk: good], sink: sink,
            gate: OutcomeGate(readiness: Readiness()), metrics: metrics, maxAttempts: 3,
            outcomeRetry: OutcomeRetry(initialDelay: .milliseconds(1), maximumDelay: .milliseconds(4)),
            logger: Logger(label: "paybridge.test"))
        for n in 0..<25 {
            #expect(await processor.process(Self.purchase("c-\(n)", account: "made-up-\(n)")) == .ack)
            #expect(await processor.process(Self.check("k-\(n)", account: "check-\(n)")) == .ack)
            #expect(await processor.process(Self.notification("n-\(n)", account: "callback-\(n)")) == .ack)
        }
        #expect(await processor.process(Self.purchase("bd-1", account: "bd")) == .ack)
        #expect(good.statusFirstCalls.count == 1, "only the configured account's command reached the provider")

        let exposition = PrometheusExposition(metrics.exposition())
        let labels = Set(exposition.samples.compactMap { $0.labels["account"] })
        #expect(labels == ["bd", "pk", "unknown"], "one label for every account that is not configured")
        #expect(exposition.value("paybridge_commands_total", ["account": "unknown", "outcome": "failed"]) == 25)
        #expect(exposition.value("paybridge_dead_letters_total", ["account": "unknown"]) == 75,
                "commands, checks and notifications naming no configured account are dead-lettered")
        #expect(exposition.value("paybridge_commands_total", ["account": "bd", "outcome": "response"]) == 1)
    }
}
