import AMQP
import Foundation
import Logging
@testable import PayBridge
import PayBridgeContract
import PayBridgeRules
import PaymentVocabulary
import ProviderCore
import StrictJSON
import Synchronization
import Testing

/// ``CommandProcessor`` answering payment-methods queries: FirstPay is asked once per query, the reply is published
/// (and confirmed) before the delivery is acked, and nothing else is published.
@Suite struct PaymentMethodsQueryProcessorTests {
    /// A FirstPay executor whose payment-methods fetch answers as scripted; it refuses every command.
    final class MethodsExecutor: PaymentCommandExecutor {
        let provider = Provider.firstpay
        let answer: @Sendable (PaymentMethodsQuery) throws -> JSONValue
        private let asked = Mutex<[PaymentMethodsQuery]>([])
        var queries: [PaymentMethodsQuery] { asked.withLock { $0 } }

        init(answer: @escaping @Sendable (PaymentMethodsQuery) throws -> JSONValue) { self.answer = answer }

        func paymentMethods(_ query: PaymentMethodsQuery) async throws -> JSONValue {
            asked.withLock { $0.append(query) }
            return try answer(query)
        }

        func execute(_ command: PaymentCommand, statusFirst: Bool) async throws -> ProviderResult {
            throw CommandDataError(field: "type", problem: "not in this test")
        }

        func confirm(_ notification: CallbackNotification) async throws -> CallbackConfirmation {
            throw CommandDataError(field: "type", problem: "not in this test")
        }

        func check(_ check: ReconcileCheck) async throws -> ProviderResult {
            throw CommandDataError(field: "type", problem: "not in this test")
        }
    }

    static let replyTo = "amq.rabbitmq.reply-to.abc"

    static func delivery(data: String = #"{"merchantPaymentId":"o-1","merchantUserId":"u","amount":"5.00","type":"PAY_IN","locale":"bn"}"#)
        -> CommandDelivery
    {
        let body = Array(
            """
            {"specversion":"1.0","id":"q-9","type":"\(PaymentMethodsQuery.type)","source":"/t",\
            "time":"2026-11-21T06:00:00Z","data":\(data)}
            """.utf8)
        return CommandDelivery(body: body, properties: AMQPProperties(correlationId: "c-9", replyTo: replyTo),
                               routingKey: PaymentMethodsQuery.routingKey, exchange: Topology.commandsExchange)
    }

    func processor(_ executor: MethodsExecutor, sink: RecordingOutcomeSink) -> CommandProcessor {
        CommandProcessor(
            executor: executor, sink: sink, gate: OutcomeGate(readiness: Readiness()), metrics: PayBridgeMetrics(),
            maxAttempts: 3, outcomeRetry: OutcomeRetry(initialDelay: .milliseconds(1), maximumDelay: .milliseconds(4)),
            logger: Logger(label: "paybridge.test"))
    }

    @Test func aQueryAsksFirstPayOnceAndTheReplyIsPublishedBeforeTheAck() async throws {
        let sink = RecordingOutcomeSink(refusing: 2)
        let executor = MethodsExecutor { _ in try JSONValue.parse(#"[{"id":"pm_bkash","type":"PAY_IN"}]"#) }
        let disposition = await processor(executor, sink: sink).process(Self.delivery())
        #expect(disposition == .ack)
        #expect(sink.refusals == 2, "the reply was published again until the broker confirmed it")
        #expect(executor.queries.count == 1, "FirstPay was asked once, not once per publish attempt")
        let query = try #require(executor.queries.first)
        #expect(query.paymentType == "PAY_IN")
        #expect(query.locale == "bn")
        #expect(sink.published.count == 1, "the reply and nothing else")
        let reply = try #require(sink.replies.first)
        #expect(reply.address == PaymentMethodsQuery.ReplyAddress(replyTo: Self.replyTo, correlationId: "c-9"))
        #expect(reply.methodCount == 1)
    }

    @Test func firstPayBeingDownIsAnErrorReplyNotARetry() async throws {
        let sink = RecordingOutcomeSink()
        let executor = MethodsExecutor { _ in
            throw ProviderError(provider: .firstpay, operation: "payment_methods", errorClass: .transient,
                                code: ProviderError.Code(rawValue: "CONNECTION_FAILED"), message: "refused")
        }
        #expect(await processor(executor, sink: sink).process(Self.delivery()) == .ack)
        #expect(sink.published.count == 1)
        let reply = try #require(sink.replies.first)
        #expect(reply.error?.code == "CONNECTION_FAILED")
        #expect(reply.error?.errorClass == .transient)
    }

    @Test func anUnknownAccountIsAnsweredWithoutAskingFirstPay() async throws {
        let sink = RecordingOutcomeSink()
        let executor = MethodsExecutor { _ in .array([]) }
        let data = #"{"merchantPaymentId":"o-1","merchantUserId":"u","amount":"5","account":"pk"}"#
        #expect(await processor(executor, sink: sink).process(Self.delivery(data: data)) == .ack)
        #expect(executor.queries.isEmpty)
        #expect(sink.replies.first?.error?.code == "UNKNOWN_ACCOUNT")
    }
}
