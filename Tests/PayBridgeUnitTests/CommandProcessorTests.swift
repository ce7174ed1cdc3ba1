import AMQP
import Logging
@testable import PayBridge
import PayBridgeRules
import PayBridgeTestKit
import PayBridgeContract
import PaymentVocabulary
import ProviderCore
import Synchronization
import Testing

/// ``CommandProcessor`` as the shell around ``DeliveryRules``: it carries out the plan through an in-memory
/// ``OutcomeSink``, in order, and settles the delivery only once the sink confirmed. No broker.
@Suite struct CommandProcessorTests {
    typealias Fixtures = CommandDeliveryFixtures

    static let pending = ProviderResult(
        provider: .amanpay, operation: "purchase", status: .processing, providerStatus: "PENDING",
        merchantPaymentId: "payment_812")

    func processor(
        _ executor: any PaymentCommandExecutor, sink: RecordingOutcomeSink, readiness: Readiness = Readiness(),
        badSignaturePauseThreshold: Int = 5
    ) -> CommandProcessor {
        CommandProcessor(
            executor: executor, sink: sink, gate: OutcomeGate(readiness: readiness), metrics: PayBridgeMetrics(),
            maxAttempts: 3, badSignaturePauseThreshold: badSignaturePauseThreshold,
            outcomeRetry: OutcomeRetry(initialDelay: .milliseconds(1), maximumDelay: .milliseconds(4)),
            logger: Logger(label: "paybridge.test"))
    }

    /// A purchase of the fixtures' payment under another command id.
    static func purchase(id: String) -> CommandDelivery {
        Fixtures.delivery(Fixtures.body(.amanpayPurchase, id: id, data: Fixtures.purchaseData))
    }

    // MARK: One execution per command id and payment

    @Test(.timeLimit(.minutes(1)))
    func aConcurrentSecondDeliveryOfACommandIdReusesTheFirstExecutionWithoutCallingTheProvider() async {
        let sink = RecordingOutcomeSink()
        let executor = GatedCommandExecutor { Self.pending }
        let processor = processor(executor, sink: sink)
        var entered = executor.entered.makeAsyncIterator()
        let first = Task { await processor.process(Fixtures.purchase()) }
        _ = await entered.next()  // the first delivery is at the provider
        let second = Task { await processor.process(Fixtures.purchase(redelivered: true)) }
        // Until the second delivery waits for the first (or, without single-flight, reaches the provider too).
        while processor.executionsWaiting < 1, executor.statusFirstCalls.count < 2 { await Task.yield() }
        executor.open()
        #expect(await first.value == .ack)
        #expect(await second.value == .ack)
        #expect(executor.statusFirstCalls == [false], "the provider was called once")
        let responses = sink.events.filter { $0.event.type == "paybridge.payment.response.v1" }
        #expect(responses.count == 2, "each delivery publishes the outcome before it is acked")
        #expect(Set(responses.map(\.event.id)).count == 1, "the same outcome, the same event id")
    }

    @Test(.timeLimit(.minutes(1)))
    func anotherCommandForTheSamePaymentWaitsForTheFirstThenGoesStatusFirst() async {
        let sink = RecordingOutcomeSink()
        let executor = GatedCommandExecutor { Self.pending }
        let processor = processor(executor, sink: sink)
        var entered = executor.entered.makeAsyncIterator()
        let first = Task { await processor.process(Self.purchase(id: "cmd-a")) }
        #expect(await entered.next() == "cmd-a")
        let second = Task { await processor.process(Self.purchase(id: "cmd-b")) }
        // Until the second delivery waits for the first (or, without single-flight, reaches the provider too).
        while processor.executionsWaiting < 1, executor.statusFirstCalls.count < 2 { await Task.yield() }
        #expect(executor.statusFirstCalls == [false], "cmd-b did not reach the provider while cmd-a was there")
        executor.open()
        #expect(await first.value == .ack)
        #expect(await second.value == .ack)
        #expect(executor.statusFirstCalls == [false, true])
    }

    // MARK: Bad response signatures

    static let badSignature = ProviderError(
        provider: .amanpay, operation: "purchase", errorClass: .providerError, code: .invalidResponseSignature,
        message: "response signature does not verify", mayHaveReachedProvider: true)

    @Test func aBadSignatureIsRetriedForItsCommandAndOnlyARunAcrossCommandsPausesTheProvider() async {
        let sink = RecordingOutcomeSink()
        let executor = ScriptedCommandExecutor { throw Self.badSignature }
        let processor = processor(executor, sink: sink, badSignaturePauseThreshold: 2)
        #expect(await processor.process(Self.purchase(id: "cmd-a")) == .ack)
        #expect(await processor.process(Self.purchase(id: "cmd-a")) == .ack, "the same command again: no pause")
        guard case .retry(let retry)? = sink.published.last else {
            Issue.record("expected a broker-side retry, got \(sink.published)")
            return
        }
        #expect(retry.nextAttempt == 2)
        #expect(await processor.process(Self.purchase(id: "cmd-b"))
            == .putBackAndPause(reason: "2 consecutive commands got responses whose signature does not verify"))
        #expect(sink.published.count == 2, "the pausing command is put back, not burned")
    }

    @Test func aUsableAnswerEndsABadSignatureRun() async {
        let sink = RecordingOutcomeSink()
        let verifies = Script([false, true, false])  // bad, good, bad
        let executor = ScriptedCommandExecutor {
            if verifies.next() { return Self.pending }
            throw Self.badSignature
        }
        let processor = processor(executor, sink: sink, badSignaturePauseThreshold: 2)
        #expect(await processor.process(Self.purchase(id: "cmd-a")) == .ack)
        #expect(await processor.process(Self.purchase(id: "cmd-b")) == .ack)
        #expect(await processor.process(Self.purchase(id: "cmd-c")) == .ack, "the run started again at cmd-c")
    }

    @Test func anAnswerIsPublishedAsAResponseBeforeTheDeliveryIsAcked() async {
        let sink = RecordingOutcomeSink()
        let executor = ScriptedCommandExecutor { Self.pending }
        let disposition = await processor(executor, sink: sink).process(Fixtures.purchase())
        #expect(disposition == .ack)
        #expect(sink.events.map(\.event.type) == ["paybridge.payment.response.v1"])
        #expect(sink.published.count == 1)
        #expect(executor.statusFirstCalls == [false])
    }

    @Test func anInvalidCommandPublishesItsEventThenItsDeadLetterAndNeverReachesTheProvider() async {
        let sink = RecordingOutcomeSink()
        let executor = ScriptedCommandExecutor { Self.pending }
        let disposition = await processor(executor, sink: sink).process(Fixtures.delivery(Array("{".utf8)))
        #expect(disposition == .ack)
        #expect(executor.statusFirstCalls.isEmpty)
        guard sink.published.count == 2, case .event(let failed) = sink.published[0],
              case .deadLetter(let deadLetter) = sink.published[1]
        else {
            Issue.record("expected an event then a dead letter, got \(sink.published)")
            return
        }
        #expect(failed.event.type == "paybridge.command.failed.v1")
        #expect(deadLetter.failedEventId == failed.event.id)
        #expect(deadLetter.code == "BAD_JSON")
    }

    @Test func aTransientFailureIsHandedToTheSinkAsABrokerSideRetry() async {
        let sink = RecordingOutcomeSink()
        let executor = ScriptedCommandExecutor {
            throw ProviderError(provider: .amanpay, operation: "purchase", errorClass: .transient, code: .timeout,
                                message: "slow")
        }
        let disposition = await processor(executor, sink: sink).process(Fixtures.purchase())
        #expect(disposition == .ack)
        guard case .retry(let retry)? = sink.published.first else {
            Issue.record("expected a retry, got \(sink.published)")
            return
        }
        #expect(sink.published.count == 1)
        #expect(retry.nextAttempt == 2)
        #expect(retry.queue == "payments.retry.amanpay.1")
    }

    @Test func aConfigurationFailurePublishesNothingAndAsksForAPause() async {
        let sink = RecordingOutcomeSink()
        let executor = ScriptedCommandExecutor {
            throw ProviderError(provider: .amanpay, operation: "purchase", errorClass: .configuration,
                                code: .init(rawValue: "INVALID_API_KEY"), message: "bad key")
        }
        let disposition = await processor(executor, sink: sink).process(Fixtures.purchase())
        #expect(disposition == .putBackAndPause(reason: "configuration: INVALID_API_KEY"))
        #expect(sink.published.isEmpty)
    }

    @Test func aRefusedPublishIsRetriedUntilConfirmedWithoutCallingTheProviderAgain() async {
        let sink = RecordingOutcomeSink(refusing: 3)
        let readiness = Readiness()
        let executor = ScriptedCommandExecutor { Self.pending }
        let disposition = await processor(executor, sink: sink, readiness: readiness).process(Fixtures.purchase())
        #expect(disposition == .ack)
        #expect(sink.refusals == 3)
        #expect(sink.events.map(\.event.type) == ["paybridge.payment.response.v1"])
        #expect(executor.statusFirstCalls.count == 1, "the provider is called once")
        #expect(readiness.check().ready, "the gate opened again once the publish was confirmed")
    }

    /// A re-publication the connection refuses as too large for a frame is not retried forever
    /// with the outcome gate closed: it goes once more without the producer's headers, with PayBridge's reason and a
    /// record of what was dropped.
    @Test(.timeLimit(.minutes(1)))
    func aDeadLetterThatCannotBeEncodedGoesWithoutTheProducersHeaders() async {
        let sink = RecordingOutcomeSink(tooLarge: { published in
            guard case .deadLetter(let letter) = published else { return false }
            return letter.properties.headers?["x-producer"] != nil
        })
        let readiness = Readiness()
        var delivery = Fixtures.delivery(Array("{".utf8))
        var properties = delivery.properties
        properties.headers = ["x-producer": .string("p"), "x-other": .int32(1)]
        delivery = CommandDelivery(body: delivery.body, properties: properties, routingKey: delivery.routingKey)
        let disposition = await processor(ScriptedCommandExecutor { Self.pending }, sink: sink, readiness: readiness)
            .process(delivery)
        #expect(disposition == .ack)
        #expect(sink.refusals == 1, "refused once, not retried")
        guard case .deadLetter(let letter)? = sink.published.last else {
            Issue.record("expected a dead letter, got \(sink.published)")
            return
        }
        let headers = letter.properties.headers ?? [:]
        #expect(headers["x-producer"] == nil && headers["x-other"] == nil)
        #expect(headers[Topology.Headers.deadLetterReason]?.stringValue == "invalid_command")
        #expect(headers[Topology.Headers.deadLetterCode]?.stringValue == "BAD_JSON")
        #expect(headers[Topology.Headers.attempt] == .int32(1))
        let record = headers[Topology.Headers.droppedHeaders]?.stringValue ?? ""
        #expect(record.hasPrefix("2 headers, "), "\(record)")
        #expect(record.contains("x-producer") && record.contains("could not be encoded"), "\(record)")
        #expect(letter.properties.messageId == "cmd-1", "the other properties stay")
        #expect(letter.body == delivery.body)
        #expect(readiness.check().ready, "the outcome gate never closed: the broker is fine")
    }

    @Test(.timeLimit(.minutes(1)))
    func aRetryThatCannotBeEncodedGoesWithoutTheProducersHeaders() async {
        let sink = RecordingOutcomeSink(tooLarge: { published in
            guard case .retry(let retry) = published else { return false }
            return retry.properties.headers?["x-producer"] != nil
        })
        let executor = ScriptedCommandExecutor {
            throw ProviderError(provider: .amanpay, operation: "purchase", errorClass: .transient, code: .timeout,
                                message: "slow")
        }
        let purchase = Fixtures.purchase()
        var properties = purchase.properties
        properties.headers = ["x-producer": .string("p")]
        let delivery = CommandDelivery(body: purchase.body, properties: properties, routingKey: purchase.routingKey)
        let disposition = await processor(executor, sink: sink).process(delivery)
        #expect(disposition == .ack)
        #expect(sink.refusals == 1)
        guard case .retry(let retry)? = sink.published.last else {
            Issue.record("expected a retry, got \(sink.published)")
            return
        }
        let headers = retry.properties.headers ?? [:]
        #expect(headers["x-producer"] == nil)
        #expect(headers[Topology.Headers.attempt] == .int32(2))
        #expect(headers[Topology.Headers.originalRoutingKey]?.stringValue == "amanpay.purchase")
        #expect(headers[Topology.Headers.droppedHeaders]?.stringValue?.hasPrefix("1 header, ") == true)
    }

    @Test func aCommandIdSeenBeforeGoesStatusFirst() async {
        let sink = RecordingOutcomeSink()
        let executor = ScriptedCommandExecutor { Self.pending }
        let processor = processor(executor, sink: sink)
        _ = await processor.process(Fixtures.purchase())
        _ = await processor.process(Fixtures.purchase())
        #expect(executor.statusFirstCalls == [false, true])
    }

    @Test(.timeLimit(.minutes(1)))
    func cancelledWhileItsOutcomeCannotBePublishedTheCommandIsRequeued() async {
        let sink = RecordingOutcomeSink(refusing: .max)
        let readiness = Readiness()
        let executor = ScriptedCommandExecutor { Self.pending }
        let processor = processor(executor, sink: sink, readiness: readiness)
        let processing = Task { await processor.process(Fixtures.purchase()) }
        while sink.refusals < 2 { await Task.yield() }
        #expect(!readiness.check().ready, "outcomes blocked while the publish is refused")
        processing.cancel()
        #expect(await processing.value == .requeue)
        #expect(sink.published.isEmpty)
    }
}

/// Answers given in order, one per call.
final class Script: Sendable {
    private let remaining: Mutex<[Bool]>
    init(_ answers: [Bool]) { remaining = Mutex(answers) }
    func next() -> Bool { remaining.withLock { $0.isEmpty ? false : $0.removeFirst() } }
}
