import AMQP
import Amanpay
import Foundation
import Logging
import NIOHTTP1
import PayBridge
import PayBridgeContract
import PayBridgeRules
import PayBridgeTracing
import PaymentVocabulary
import ProviderCore
import Synchronization
import Tracing

/// The stages that run on the calling thread alone: each is the production function the worker calls, on the
/// bench's command, counted on the thread (exact allocation counts).
struct LocalStages: Sendable {
    let plan: Plan
    let rules = Inputs.rules()
    /// One delivery per operation index (distinct command ids and payment ids, as in a drain).
    let deliveries: [CommandDelivery]
    /// Commands that went through the sandbox (their responses and results), cycled through.
    let executed: [Executed]

    init(plan: Plan, executed: [Executed]) {
        self.plan = plan
        self.executed = executed
        deliveries = (0..<plan.total).map { Inputs.delivery("bench-profile-\($0)", tag: UInt64($0 + 1)) }
    }

    private func sample(_ index: Int) -> Executed { executed[index % executed.count] }

    /// 1: a received `AMQPDelivery` into the worker's `CommandDelivery` (headers checked, PayBridge's own stripped).
    func amqpIn(_ delivery: AMQPDelivery) -> Figures {
        measure(plan, row: "1") { _ in
            let received = CommandDelivery(delivery)
            return received.body.count &+ received.attempt &+ received.originalRoutingKey.utf8.count
                &+ received.ignoredHeaders.count &+ (received.isInternal ? 1 : 0)
        }
    }

    /// 2: `DeliveryRules.classify` as `CommandProcessor.process` calls it: JSON parse, CloudEvent, schema validation,
    /// the command's routing key and account.
    func decode() -> Figures {
        measure(plan, row: "2") { index in
            guard case .command(.success(let command)) = rules.classify(deliveries[index], receivedAt: Date()) else {
                fail("the bench command did not decode")
            }
            return command.id.utf8.count
        }
    }

    /// 2b: what `CommandProcessor` asks before the provider call: `screen`, `admit` under the memory's lock, the
    /// command id recorded as seen, status-first or not.
    func admit() -> Figures {
        let memory = Mutex(Inputs.memory())
        let kinds = executed.map { rules.classify($0.delivery, receivedAt: Date()) }
        return measure(plan, row: "2b") { index in
            let kind = kinds[index % kinds.count], delivery = executed[index % kinds.count].delivery
            let admission = CommandProcessor.admission(kind, delivery: delivery, rules: rules, memory: memory)
            guard case .execute = admission, case .command(.success(let command)) = kind else {
                fail("the bench command was not admitted")
            }
            // Each operation records another id, as a drain's distinct commands do.
            let seen = memory.withLock { $0.seen(commandId: deliveries[index].properties.messageId!) }
            return rules.statusFirst(command, delivery: delivery, seenBefore: seen) ? 1 : 0
        }
    }

    /// 3a: the payout's A1 signature as `AmanpayClient.payout` makes it (its five values, SHA-512, hex).
    func sign() -> Figures {
        measure(plan, row: "3a") { index in
            let request = sample(index).request
            let signed = [request.amount.twoDecimalText!, request.currency, String(Inputs.merchantId),
                          request.paymentId, request.recipientMobileNumber ?? ""]
            return AmanpaySignature.sign(signed, secret: Inputs.secret).utf8.count
        }
    }

    /// 3b: the payout's JSON request body (`AmanpayClient.payoutBody`).
    func requestBody() -> Figures {
        measure(plan, row: "3b") { index in
            let request = sample(index).request
            return AmanpayClient.payoutBody(request, merchantId: String(Inputs.merchantId),
                                            amount: request.amount.twoDecimalText!).utf8.count
        }
    }

    /// 3c: the sandbox's answer read: JSON parse, A2 signature check, the result (`AmanpayClient.interpret`).
    func verifyResponse(client: AmanpayClient) -> Figures {
        measure(plan, row: "3c") { index in
            guard let result = try? client.interpret(sample(index).response, operation: "payout") else {
                fail("the sandbox's payout answer did not verify")
            }
            return result.status == .processing ? 1 : 0
        }
    }

    /// 4: the rules' plan for the answer (`payment.response` and the first reconciliation check), adjusted by the
    /// memory under its lock, and what `OutcomePublisher` makes of it before the broker: the event's bytes and AMQP
    /// properties, the check's bytes and properties.
    func eventBuild() -> Figures {
        let memory = Mutex(Inputs.memory())
        return measure(plan, row: "4") { index in
            let executed = sample(index)
            let execution = DeliveryExecution.command(executed.command, .answered(executed.result))
            let planned = rules.plan(execution, delivery: executed.delivery, at: Date())
            let (plan, _) = memory.withLock { memory in
                rules.adjust(planned, after: execution, delivery: executed.delivery, account: .default,
                             memory: &memory, now: .now)
            }
            return Self.published(plan, tracing: nil, trace: nil)
        }
    }

    /// The bytes and properties of what a plan publishes (with `trace`: stamped as `OutcomePublisher` stamps them).
    static func published(_ plan: DeliveryPlan, tracing: MessageTracing?, trace: TraceHeaders?) -> Int {
        var sum = 0
        for event in plan.events {
            let event = event.traced(trace)
            var properties = OutcomePublisher.properties(event)
            if let tracing { properties = tracing.stamped(properties, with: trace) }
            sum &+= event.body.count &+ (properties.messageId?.utf8.count ?? 0)
        }
        if let check = plan.nextCheck {
            var properties = check.check.properties
            if let tracing { properties = tracing.stamped(properties, with: trace) }
            sum &+= check.check.body.count &+ (properties.headers?.count ?? 0)
        }
        return sum
    }

    /// The plans stage 4 makes, for the stages that publish them.
    func plans(_ count: Int) -> [DeliveryPlan] {
        var memory = Inputs.memory()
        return (0..<count).map { index in
            let executed = sample(index)
            let execution = DeliveryExecution.command(executed.command, .answered(executed.result))
            let planned = rules.plan(execution, delivery: executed.delivery, at: Date())
            return rules.adjust(planned, after: execution, delivery: executed.delivery, account: .default,
                                memory: &memory, now: .now).plan
        }
    }

    /// 7: what a command's walk counts (`ProviderMetricHandles`): in flight +1 and -1 (`ProviderQueueWorker`), the
    /// provider call's latency histogram and the outcome counter (`CommandProcessor`), with the clock reads.
    func metrics() -> Figures {
        let handles = PayBridgeMetrics().handles(provider: Provider.amanpay.rawValue, accounts: [.default],
                                                 operations: Provider.amanpay.commandKinds.map(\.operation))
        return measure(plan, row: "7") { _ in
            handles.inFlight(delta: 1)
            let started = ContinuousClock.now
            handles.providerLatency(operation: "payout", account: .default, .now - started)
            handles.command(outcome: "response", account: .default)
            handles.inFlight(delta: -1)
            return 1
        }
    }

    /// 8a: a command's log context (`CommandLog`, as `process` fills it) and the two lines a payout left open
    /// writes, both below the configured level (warning configured, info lines). 8b: one such line written
    /// (info configured): `PlainTextLogHandler`'s formatting and one write(2) to /dev/null.
    func logging(level: Logger.Level) -> Figures {
        let devNull = FileHandle(forWritingAtPath: "/dev/null")!
        var logger = Logger(label: "paybridge") { label in
            var handler = PlainTextLogHandler(label: label) { line in devNull.write(Data(line.utf8)) }
            handler.logLevel = level
            return handler
        }
        logger[metadataKey: "provider"] = "amanpay"
        let lines = level > .info ? 2 : 1
        return measure(plan, row: level > .info ? "8a" : "8b") { index in
            let executed = sample(index), delivery = executed.delivery
            var log = CommandLog(logger: logger, provider: Provider.amanpay.rawValue, attempt: delivery.attempt,
                                 deliveryTag: delivery.deliveryTag)
            log.traceId = "4bf92f3577b34da6a3ce929d0e0e4736"
            log.commandId = executed.command.id
            log.operation = executed.command.operation
            log.account = MerchantAccount.default.name
            log.info("command executed", ["status": "\(executed.result.status.rawValue)"])
            if lines == 2 { log.info("reconciliation check scheduled", ["check": "1", "queue": "q"]) }
            return lines
        }
    }

    /// A self-test of the counter: three class instances per operation must count three.
    static func calibration(_ plan: Plan) -> Figures {
        measure(plan, row: "calibration") { index in
            CalibrationObject.make(index).value &+ CalibrationObject.make(index).value
                &+ CalibrationObject.make(index).value
        }
    }
}

extension LocalStages {
    /// The same, counted process-wide, from an async function as the network stages are (nonisolated: a closure
    /// made on the main actor would hop to it and back for every operation, which allocates).
    static func calibrationProcessWide(_ plan: Plan) async throws -> Figures {
        try await measure(plan, row: "calibration-process", scope: .process) { index in
            CalibrationObject.make(index).value &+ CalibrationObject.make(index).value
                &+ CalibrationObject.make(index).value
        }
    }
}

/// One heap object: ``make(_:)`` is not inlined, so the object escapes and cannot live on the stack.
final class CalibrationObject: Sendable {
    let value: Int
    init(_ value: Int) { self.value = value }
    @inline(never) static func make(_ value: Int) -> CalibrationObject { CalibrationObject(value) }
}
