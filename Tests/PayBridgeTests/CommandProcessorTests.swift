import Logging
@testable import PayBridge
import PayBridgeContract
import ProviderCore
import Testing

/// ``CommandProcessor`` as the shell around ``DeliveryRules``: it carries out the plan through an in-memory
/// ``OutcomeSink``, in order, and settles the delivery only once the sink confirmed. No broker.
@Suite struct CommandProcessorTests {
    typealias Fixtures = CommandDeliveryFixtures

    static let pending = ProviderResult(
        provider: .amanpay, operation: "purchase", status: .processing, providerStatus: "PENDING",
        merchantPaymentId: "payment_812")

    func processor(
        _ executor: ScriptedCommandExecutor, sink: RecordingOutcomeSink, readiness: Readiness = Readiness()
    ) -> CommandProcessor {
        CommandProcessor(
            executor: executor, sink: sink, gate: OutcomeGate(readiness: readiness), metrics: PayBridgeMetrics(),
            maxAttempts: 3, outcomeRetry: OutcomeRetry(initialDelay: .milliseconds(1), maximumDelay: .milliseconds(4)),
            logger: Logger(label: "paybridge.test"))
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
            throw ProviderError(provider: .amanpay, operation: "purchase", errorClass: .transient, code: "TIMEOUT",
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
                                code: "INVALID_API_KEY", message: "bad key")
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
