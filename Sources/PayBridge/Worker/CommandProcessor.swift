import AMQP
import Foundation
import Logging
import PayBridgeContract
import PayBridgeRules
import PayBridgeTracing
import PaymentVocabulary
import ProviderCore
import Synchronization
import Tracing

/// Walks every delivery on a provider's command queue through the same steps: decide its kind once
/// (``DeliveryRules/classify(_:receivedAt:)``: a command, a callback notification or a reconciliation check), ask the
/// rules whether it is settled without a provider call (``DeliveryRules/screen(_:delivery:at:)``, then
/// ``DeliveryRules/admit(_:account:notificationKey:delivery:memory:now:)``), call the provider
/// (``PaymentCommandExecutor``), ask the rules for the plan (``DeliveryRules/plan(_:delivery:at:)``, then
/// ``DeliveryRules/adjust(_:after:delivery:account:memory:now:)``), log it, carry it out through an ``OutcomeSink``, count it, and say how to settle the delivery.
///
/// The decisions are ``PayBridgeRules``' (plain values, tested without I/O). What stays here is I/O and waiting:
/// - what the worker remembers between deliveries is one ``WorkerMemory`` behind one lock (ids seen, callbacks read
///   recently, bad-signature streaks, paused accounts);
/// - one execution per command id and per merchant payment id at a time (``CommandSingleFlight``): a concurrent
///   second delivery of a command id reuses the first one's execution; another command for the same payment waits
///   and then goes status-first;
/// - an outcome that cannot be published is retried with backoff (``OutcomeRetry``) while the delivery waits,
///   unacked; the provider is not called again, and ``OutcomeGate`` holds the commands behind it back;
/// - the delivery is acked only after everything the plan publishes is confirmed.
package final class CommandProcessor: Sendable {
    /// One executor per merchant account of the provider.
    let executors: [MerchantAccount: any PaymentCommandExecutor]
    let provider: Provider
    let sink: any OutcomeSink
    /// Closed while outcomes cannot be published; shared by every provider's processor.
    let gate: OutcomeGate
    let metrics: ProviderMetricHandles
    let rules: DeliveryRules
    let outcomeRetry: OutcomeRetry
    let logger: Logger
    /// Each delivery's span is a child of the trace context its message carries (``MessageTracing``).
    let tracing: MessageTracing
    /// `PAYBRIDGE_TRUST_DEFAULT_EXCHANGE`: PayBridge's headers also count on deliveries through the default
    /// exchange (only while upgrading from a version without `payments.internal`).
    let trustsDefaultExchange: Bool
    /// What the worker remembers between deliveries.
    let memory: Mutex<WorkerMemory>
    let flights = CommandSingleFlight<CommandExecution>(capacity: 10_000)

    /// - Parameters:
    ///   - executor: the `default` account's executor, unless `accounts` is given.
    ///   - accounts: one executor per merchant account (all of one provider); `nil`: `[.default: executor]`.
    ///   - accountPause: an account's first and longest pause (``AccountPauses``).
    ///   - notificationDedupWindow: identical callback notifications within it are read once
    ///     (``RecentNotifications``); `.zero` (the default here; the service's is 30 s) reads every one.
    init(executor: any PaymentCommandExecutor, accounts: [MerchantAccount: any PaymentCommandExecutor]? = nil,
         sink: any OutcomeSink, gate: OutcomeGate, metrics: PayBridgeMetrics,
         maxAttempts: Int, maxCommandBytes: Int = CommandDecoder.defaultMaximumBytes,
         badSignaturePauseThreshold: Int = BadSignatureStreak.defaultThreshold,
         outcomeRetry: OutcomeRetry, eventPII: EventPII = .masked, reconcileSchedule: ReconcileSchedule = .off,
         accountPause: (initial: Duration, maximum: Duration) = (.seconds(5), .seconds(300)),
         notificationDedupWindow: Duration = .zero, trustDefaultExchange: Bool = false,
         tracer: any Tracer = PayBridgeTracer(), logger: Logger) {
        trustsDefaultExchange = trustDefaultExchange
        tracing = MessageTracing(tracer: tracer)
        let executors = accounts ?? [.default: executor]
        self.executors = executors
        provider = executor.provider
        precondition(executors.values.allSatisfy { $0.provider == executor.provider }, "one provider per processor")
        self.sink = sink
        self.gate = gate
        self.metrics = metrics.handles(provider: executor.provider.rawValue, accounts: executors.keys.sorted(),
                                       operations: executor.provider.commandKinds.map(\.operation))
        var rules = DeliveryRules(provider: executor.provider, maxAttempts: maxAttempts,
                                  maxCommandBytes: maxCommandBytes)
        rules.eventPII = eventPII
        rules.reconcileSchedule = reconcileSchedule
        rules.accounts = Set(executors.keys)
        self.rules = rules
        self.outcomeRetry = outcomeRetry
        self.logger = logger
        memory = Mutex(WorkerMemory(accounts: Set(executors.keys), accountPause: accountPause,
                                    badSignatureThreshold: badSignaturePauseThreshold,
                                    notificationWindow: notificationDedupWindow))
    }
    /// Executions waiting for another one with the same command id or payment id (``CommandSingleFlight``).
    var executionsWaiting: Int { flights.counts.waiting }
    var queue: String { rules.queue }

    func process(_ delivery: AMQPDelivery) async -> DeliveryDisposition {
        await process(CommandDelivery(delivery, trustDefaultExchange: trustsDefaultExchange))
    }

    /// The one walk every delivery takes.
    func process(_ delivery: CommandDelivery) async -> DeliveryDisposition {
        if !delivery.ignoredHeaders.isEmpty {
            // A producer may ask, never impersonate: PayBridge's headers count only on its own route.
            logger.warning("a producer's message carried PayBridge's own headers; they were ignored", metadata: [
                PayBridgeLoggingKeys.ignoredHeaders: "\(delivery.ignoredHeaders.prefix(8).joined(separator: ","))",
                PayBridgeLoggingKeys.exchange: "\(delivery.exchange)",
                PayBridgeLoggingKeys.routingKey: "\(delivery.routingKey)",
            ])
        }
        let kind = rules.classify(delivery, receivedAt: Date())
        return await traced(delivery, kind) { span in
            var log = CommandLog(logger: logger, provider: provider.rawValue, attempt: delivery.attempt,
                                 deliveryTag: delivery.deliveryTag)
            log.traceId = tracing.current?.traceID
            let account = kind.account
            log.commandId = kind.commandId
            log.operation = kind.operation
            log.account = account?.name
            do {
                let (plan, execution) = try await plan(kind, delivery, log)
                report(plan, log, execution: execution)
                try await carryOut(plan, log)
                count(plan, account: account)
                Self.setStatus(of: span, plan)
                return plan.disposition
            } catch {
                // Only cancellation ends the publish retries: the worker is shutting down past its drain timeout.
                // Nothing was acked, so the delivery comes back (a command goes through status-first).
                log.error("shutting down before the outcome was published; requeueing the delivery",
                          [PayBridgeLoggingKeys.error: "\(error)"])
                metrics.command(outcome: "requeued", account: account)
                return .requeue
            }
        }
    }

    /// The delivery's plan: settled without a provider call when the rules say so, else after one (and the
    /// execution, for the log lines).
    private func plan(_ kind: DeliveryKind, _ delivery: CommandDelivery, _ log: CommandLog) async throws
        -> (DeliveryPlan, DeliveryExecution?)
    {
        let admission = Self.admission(kind, delivery: delivery, rules: rules, memory: memory)
        guard case .execute(let account) = admission, let executor = executors[account] else {
            if case .planned(let plan) = admission { return (plan, nil) }
            preconditionFailure("the rules admit only configured accounts")
        }
        let execution = try await execute(kind, executor: executor, delivery: delivery, log: log)
        let planned = rules.plan(execution, delivery: delivery, at: Date())
        let (plan, pausedAccount) = memory.withLock { memory in
            rules.adjust(planned, after: execution, delivery: delivery, account: account, memory: &memory, now: .now)
        }
        if pausedAccount, case .retry(let retry) = plan.republish {
            logger.error("pausing a merchant account: its deliveries are deferred, the other accounts' go on",
                         metadata: [
                            PayBridgeLoggingKeys.provider: "\(provider.rawValue)",
                            PayBridgeLoggingKeys.account: "\(account.name)",
                            PayBridgeLoggingKeys.queue: "\(retry.queue)",
                         ])
        }
        return (plan, execution)
    }

    /// Whether the rules settle a delivery without a provider call (``DeliveryRules/screen(_:delivery:at:)``, then
    /// ``DeliveryRules/admit(_:account:notificationKey:delivery:memory:now:)`` under the memory's lock). Whatever
    /// builds events runs outside the lock; inside it only the memory's own steps.
    package static func admission(_ kind: DeliveryKind, delivery: CommandDelivery, rules: DeliveryRules,
                                  memory: borrowing Mutex<WorkerMemory>) -> DeliveryRules.Admission {
        var admission = rules.screen(kind, delivery: delivery, at: Date())
        if case .execute(let account) = admission {
            let key = rules.notificationKey(kind, delivery: delivery, account: account)
            admission = memory.withLock { memory in
                rules.admit(kind, account: account, notificationKey: key, delivery: delivery, memory: &memory,
                            now: .now)
            }
        }
        return admission
    }

    /// Runs `body` in the delivery's span: `process <queue>`, a consumer span, child of the context the message
    /// carries (a new trace when it carries none). Attributes: messaging system, queue, message id, provider and
    /// operation (never a secret, an account number or an amount).
    private func traced(_ delivery: CommandDelivery, _ kind: DeliveryKind,
                        _ body: (any Span) async -> DeliveryDisposition) async -> DeliveryDisposition {
        let parent = tracing.parent(of: delivery.properties, event: kind.event)
        return await tracing.tracer.withAnySpan("process \(queue)", context: parent, ofKind: .consumer) { span in
            if span.isRecording {
                span.attributes["messaging.system"] = "rabbitmq"
                span.attributes["messaging.operation.type"] = "process"
                span.attributes["messaging.destination.name"] = queue
                if let id = delivery.properties.messageId { span.attributes["messaging.message.id"] = id }
                span.attributes["paybridge.provider"] = provider.rawValue
                if let operation = kind.operation { span.attributes["paybridge.operation"] = operation }
                span.attributes["paybridge.attempt"] = delivery.attempt
                if case .command(let decoded) = kind {
                    if let id = kind.commandId { span.attributes["paybridge.command_id"] = id }
                    if case .success(let command) = decoded {
                        if let paymentId = command.paymentId { span.attributes["paybridge.payment_id"] = paymentId }
                        if let account = command.account { span.attributes["paybridge.account"] = account.name }
                    }
                }
            }
            let disposition = await body(span)
            if span.isRecording { span.attributes["paybridge.disposition"] = "\(disposition)" }
            return disposition
        }
    }
}
