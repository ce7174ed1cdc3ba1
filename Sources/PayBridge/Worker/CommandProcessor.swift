import AMQP
import Foundation
import Logging
import PayBridgeContract
import PayBridgeTracing
import ProviderCore
import Synchronization
import Tracing

/// Processes one command delivery: decode, execute, ask ``DeliveryRules`` what follows, carry out the
/// ``DeliveryPlan`` through an ``OutcomeSink``, and say how to settle the delivery.
///
/// The rules themselves are in ``DeliveryRules``. What stays here is what needs I/O or state:
/// - the command ids seen recently (a create seen twice goes status-first);
/// - one execution per command id and per merchant payment id at a time (``CommandSingleFlight``): a concurrent
///   second delivery of a command id reuses the first one's execution; another command for the same payment waits
///   and then goes status-first;
/// - the run of bad response signatures across commands (``BadSignatureStreak``, per merchant account) that
///   pauses the account;
/// - which merchant accounts are paused (``AccountPauses``): a paused account's deliveries are deferred into a delay
///   queue while the other accounts' flow; when every account is paused the plan pauses the queue;
/// - an outcome that cannot be published is retried with backoff (``OutcomeRetry``) while the command waits,
///   unacked; the provider is not called again, and ``OutcomeGate`` holds the commands behind it back;
/// - the delivery is acked only after everything the plan publishes is confirmed.
final class CommandProcessor: Sendable {
    /// One executor per merchant account of the provider (issue 13 part 3).
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
    private let seenCommands = Mutex(RecentIDs(capacity: 100_000))
    /// `PAYBRIDGE_TRUST_DEFAULT_EXCHANGE`: PayBridge's headers also count on deliveries through the default
    /// exchange (only while upgrading from a version without `payments.internal`).
    let trustsDefaultExchange: Bool
    /// Callback notifications read recently, by content: an identical one within the window is not read again.
    let recentNotifications: Mutex<RecentNotifications>
    private let flights = CommandSingleFlight<CommandExecution>(capacity: 10_000)
    private let badSignatures: Mutex<[MerchantAccount: BadSignatureStreak]>
    let badSignaturePauseThreshold: Int
    /// The accounts paused, and what a pause means (``AccountPauses``).
    let pauses: Mutex<AccountPauses>

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
        recentNotifications = Mutex(RecentNotifications(window: notificationDedupWindow))
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
        self.badSignaturePauseThreshold = badSignaturePauseThreshold
        badSignatures = Mutex([:])
        pauses = Mutex(AccountPauses(accounts: Set(executors.keys), initialPause: accountPause.initial,
                                     maximumPause: accountPause.maximum))
    }
    /// Executions waiting for another one with the same command id or payment id (``CommandSingleFlight``).
    var executionsWaiting: Int { flights.counts.waiting }
    var queue: String { rules.queue }

    func process(_ delivery: AMQPDelivery) async -> DeliveryDisposition {
        await process(CommandDelivery(delivery, trustDefaultExchange: trustsDefaultExchange))
    }

    func process(_ delivery: CommandDelivery) async -> DeliveryDisposition {
        if !delivery.ignoredHeaders.isEmpty {
            // A producer may ask, never impersonate: PayBridge's headers count only on its own route.
            logger.warning("a producer's message carried PayBridge's own headers; they were ignored", metadata: [
                "paybridge.ignored_headers": "\(delivery.ignoredHeaders.prefix(8).joined(separator: ","))",
                "paybridge.exchange": "\(delivery.exchange)",
                "paybridge.routing_key": "\(delivery.routingKey)",
            ])
        }
        // A producer's delivery carries none of PayBridge's headers by now (CommandDelivery removed them), so only
        // PayBridge's own messages can be notifications or checks.
        if delivery.headers.problem == nil, CallbackNotification.isNotification(delivery) {
            return await traced(delivery, operation: "callback") { _ in await processNotification(delivery) }
        }
        if delivery.headers.problem == nil, ReconcileCheck.isCheck(delivery) {
            return await traced(delivery, operation: "reconcile") { _ in await processCheck(delivery) }
        }
        let decoded = rules.decode(delivery)
        let command = try? decoded.get()
        return await traced(delivery, operation: command?.kind.rawValue, event: command?.event) { span in
            if span.isRecording {
                switch decoded {
                case .success(let command):
                    span.attributes["paybridge.command_id"] = command.id
                    if let paymentId = command.paymentId { span.attributes["paybridge.payment_id"] = paymentId }
                    if let account = command.account { span.attributes["paybridge.account"] = account.name }
                case .failure(let rejection):
                    if let id = rejection.commandId { span.attributes["paybridge.command_id"] = id }
                }
            }
            return await processCommand(delivery, decoded, span: span)
        }
    }

    /// Runs `body` in the delivery's span: `process <queue>`, a consumer span, child of the context the message
    /// carries (a new trace when it carries none). Attributes: messaging system, queue, message id, provider and
    /// operation (never a secret, an account number or an amount).
    private func traced(_ delivery: CommandDelivery, operation: String?, event: CloudEvent? = nil,
                        _ body: (any Span) async -> DeliveryDisposition) async -> DeliveryDisposition {
        let parent = tracing.parent(of: delivery.properties, event: event)
        return await tracing.tracer.withAnySpan("process \(queue)", context: parent, ofKind: .consumer) { span in
            if span.isRecording {
                span.attributes["messaging.system"] = "rabbitmq"
                span.attributes["messaging.operation.type"] = "process"
                span.attributes["messaging.destination.name"] = queue
                if let id = delivery.properties.messageId { span.attributes["messaging.message.id"] = id }
                span.attributes["paybridge.provider"] = provider.rawValue
                if let operation { span.attributes["paybridge.operation"] = operation }
                span.attributes["paybridge.attempt"] = delivery.attempt
            }
            let disposition = await body(span)
            if span.isRecording { span.attributes["paybridge.disposition"] = "\(disposition)" }
            return disposition
        }
    }

    private func processCommand(_ delivery: CommandDelivery, _ decoded: Result<PaymentCommand, CommandRejection>,
                                span: any Span) async -> DeliveryDisposition {
        // Metadata is built only when a line is actually logged (swift-log takes it as an autoclosure).
        var log = CommandLog(logger: logger, provider: provider.rawValue, attempt: delivery.attempt,
                             deliveryTag: delivery.deliveryTag)
        log.traceId = tracing.current?.traceID
        var account: MerchantAccount?
        do {
            let plan: DeliveryPlan
            switch decoded {
            case .failure(let rejection):
                log.commandId = rejection.commandId
                plan = rules.plan(rejected: rejection, delivery: delivery, at: Date())
                report(plan, log)
            case .success(let command):
                log.commandId = command.id
                log.operation = command.kind.rawValue
                account = command.account
                log.account = command.account?.name
                guard let named = command.account, let executor = executors[named] else {
                    plan = rules.plan(unknownAccount: command, delivery: delivery, at: Date())
                    report(plan, log)
                    break
                }
                if let stage = pauses.withLock({ $0.deferral(of: named, now: .now) }) {
                    plan = rules.plan(deferring: delivery, account: named, stage: stage)
                    report(plan, log)
                    break
                }
                let execution = try await execute(command, executor: executor, delivery: delivery, logger: log)
                if let badSignatureCount = recordSignatures(execution, account: named, commandId: command.id) {
                    plan = accountPlan(rules.planPause(forBadSignatures: badSignatureCount), account: named,
                                       delivery: delivery)
                } else {
                    plan = accountPlan(
                        rules.plan(executed: command, delivery: delivery, execution: execution, at: Date()),
                        account: named, delivery: delivery)
                }
                report(plan, log, execution: execution)
            }
            try await carryOut(plan, log)
            count(plan, account: account)
            Self.setStatus(of: span, plan)
            return plan.disposition
        } catch {
            // Only cancellation ends the publish retries: the worker is shutting down past its drain timeout.
            // Nothing was acked, so the command comes back and goes through status-first.
            log.error("shutting down before the outcome was published; requeueing the command",
                      ["error": "\(error)"])
            metrics.command(outcome: "requeued", account: account)
            return .requeue
        }
    }

    /// Runs the executor once per command id and payment id at a time (``CommandSingleFlight``), status-first
    /// where the rules say so. A concurrent delivery of the same command id gets the running execution's result.
    /// Throws only what the executor throws besides ``ProviderError`` and ``CommandDataError``.
    private func execute(
        _ command: PaymentCommand, executor: any PaymentCommandExecutor, delivery: CommandDelivery, logger: CommandLog
    ) async throws -> CommandExecution {
        let keys = CommandSingleFlight<CommandExecution>.Keys(commandId: command.id, paymentId: command.paymentId)
        let (execution, passage) = try await flights.run(keys) { afterAnother in
            try await executeNow(command, executor: executor, delivery: delivery, afterAnother: afterAnother,
                                 logger: logger)
        }
        if passage == .reused {
            logger.info("same command id executing concurrently: its result is reused, the provider is not called")
        }
        return execution
    }

    /// The pause a bad response signature asks for, as the streak's length; `nil` to go on with the rules.
    private func recordSignatures(_ execution: CommandExecution, account: MerchantAccount, commandId: String) -> Int? {
        switch execution {
        case .providerFailed(let error) where error.code == "INVALID_RESPONSE_SIGNATURE":
            return badSignatures.withLock { streaks in
                var streak = streaks[account] ?? BadSignatureStreak(threshold: badSignaturePauseThreshold)
                defer { streaks[account] = streak }
                return streak.recordBadSignature(commandId: commandId) ? streak.commandIds.count : nil
            }
        case .answered(let result) where result.status != .unknown:
            badSignatures.withLock { $0[account]?.recordUsableAnswer() }
            return nil
        default:
            return nil
        }
    }

    /// One execution (the single-flight table admitted it). `afterAnother`: another execution for this command id
    /// or payment ran first, so a create reads the status first.
    private func executeNow(
        _ command: PaymentCommand, executor: any PaymentCommandExecutor, delivery: CommandDelivery,
        afterAnother: Bool, logger: CommandLog
    ) async throws -> CommandExecution {
        let seenBefore = seenCommands.withLock { $0.insert(command.id) } || afterAnother
        if seenBefore { logger.info("command id or payment seen before: status-first") }
        let statusFirst = rules.statusFirst(command, delivery: delivery, seenBefore: seenBefore)
        let started = ContinuousClock.now
        let account = command.account ?? .default
        defer { metrics.providerLatency(operation: command.operation, account: account, .now - started) }
        do {
            return .answered(try await executor.execute(command, statusFirst: statusFirst))
        } catch let error as ProviderError {
            metrics.providerError(error)
            return .providerFailed(error)
        } catch let error as CommandDataError {
            return .invalidData(error)
        }
    }

    /// Publishes the plan's events and next check (together, until the broker confirmed all of them), then its
    /// re-publication (until confirmed).
    func carryOut(_ plan: DeliveryPlan, _ log: CommandLog) async throws {
        if !plan.events.isEmpty || plan.nextCheck != nil {
            try await persistently(log) { try await sink.publish(plan.events, then: plan.nextCheck) }
        }
        switch plan.republish {
        case .retry(let retry):
            try await persistently(log) { try await sink.scheduleRetry(retry) } unencodable: { reason in
                var stripped = retry
                stripped.properties = CommandDelivery.withoutProducerHeaders(retry.properties, because: reason)
                try await self.persistently(log) { try await self.sink.scheduleRetry(stripped) }
            }
        case .deadLetter(let deadLetter):
            try await persistently(log) { try await sink.deadLetter(deadLetter) } unencodable: { reason in
                var stripped = deadLetter
                stripped.properties = CommandDelivery.withoutProducerHeaders(deadLetter.properties, because: reason)
                try await self.persistently(log) { try await self.sink.deadLetter(stripped) }
            }
        case nil:
            break
        }
    }

    /// Runs a publish until the broker confirms it: on failure the ``OutcomeGate`` closes and the publish (never
    /// the provider call) is retried with backoff. Throws only `CancellationError`.
    ///
    /// A publish the connection refuses as impossible to encode (``OutcomeRetry/isUnencodable(_:)``: its
    /// properties do not fit a frame) would fail the same way forever, and the broker is fine: the gate stays as
    /// it is and `unencodable`, when given, publishes instead (the command without the producer's headers), once.
    private func persistently(_ log: CommandLog, _ publish: () async throws -> Void,
                              unencodable: ((String) async throws -> Void)? = nil) async throws {
        var failures = 0
        while true {
            do {
                try await publish()
                if failures > 0 { log.info("outcome published after \(failures) failed attempts") }
                gate.publishSucceeded()
                return
            } catch {
                try Task.checkCancellation()
                if let unencodable, OutcomeRetry.isUnencodable(error) {
                    log.error("the command cannot be published again with its properties; publishing it without the producer's headers",
                              ["error": "\(error)"])
                    let message = (error as? AMQPError)?.message ?? "\(error)"
                    try await unencodable("its properties could not be encoded: \(message)")
                    return
                }
                let reason = OutcomeRetry.reason(error)
                gate.publishFailed(reason: reason)
                metrics.outcomePublishFailure(reason: reason)
                let delay = outcomeRetry.delay(afterFailures: failures)
                failures += 1
                log.error("could not publish the outcome; the command waits and the publish is retried",
                          ["error": "\(error)", "paybridge.retry_in": "\(delay)"])
                try await Task.sleep(for: delay)
            }
        }
    }

    /// Logs what the rules decided, before it is carried out.
    func report(_ plan: DeliveryPlan, _ log: CommandLog, execution: CommandExecution? = nil,
                readError: ProviderError? = nil) {
        let failure: String = switch execution {
        case .providerFailed(let error): "\(error)"
        case .invalidData(let error): "\(error)"
        case .answered, nil: "-"
        }
        switch plan.verdict {
        case .rejected(let code):
            log.warning("invalid command dead-lettered", ["paybridge.reason": "\(code)"])
        case .answered(let status):
            log.debug("command executed", ["paybridge.status": "\(status.rawValue)"])
        case .retryScheduled(let code):
            let next = if case .retry(let retry) = plan.republish { retry.nextAttempt } else { 0 }
            log.info("transient failure; broker-side retry scheduled", [
                "paybridge.error": "\(code)", "paybridge.next_attempt": "\(next)",
            ])
        case .failed(let code, let errorClass):
            if errorClass == .retriesExhausted || errorClass == .providerError {
                log.error("retries exhausted; dead-lettering", ["paybridge.error": "\(code)"])
            }
            log.warning("command failed", ["paybridge.error": "\(code)", "paybridge.class": "\(errorClass)"])
        case .pausedForConfiguration(let code) where code == "INVALID_RESPONSE_SIGNATURE":
            log.error("responses to several commands in a row fail their signature check; pausing this provider",
                      ["error": "\(failure)"])
        case .pausedForConfiguration:
            log.error("provider rejected PayBridge's configuration; pausing this provider", ["error": "\(failure)"])
        case .pausedForOpenCircuit:
            log.warning("circuit open; pausing this provider", ["error": "\(failure)"])
        case .deferred(let account):
            var queue = "-"
            if case .retry(let retry) = plan.republish { queue = retry.queue }
            log.info("merchant account paused; deferred into a delay queue",
                     ["paybridge.account": "\(account)", "paybridge.queue": "\(queue)"])
        case .callbackPublished(let status):
            log.debug("callback confirmed", ["paybridge.status": "\(status.rawValue)"])
        case .callbackNotPublished(let code, let errorClass):
            log.warning("callback not confirmed; dead-lettered, nothing published",
                        ["paybridge.error": "\(code)", "paybridge.class": "\(errorClass)"])
        case .reconciled(let result):
            reportCheck(result, plan, log, readError: readError)
        }
        for message in plan.events {
            guard let mismatch = message.event.data?["amountMismatch"] else { continue }
            // Commands, reconciliation checks and callbacks: each names what it expected (`command*`, `callback*`).
            log.warning("the provider's amount or currency differs from what was expected; published flagged", [
                "paybridge.event_id": "\(message.event.id)",
                "paybridge.amount_mismatch": "\(mismatch.compactText)",
            ])
        }
        if let next = plan.nextCheck {
            log.debug("reconciliation check scheduled", [
                "paybridge.check": "\(next.check.step)", "paybridge.queue": "\(next.queue)",
            ])
        }
    }

    /// The span ends as an error when the command failed or was dead-lettered (the reason as its message).
    static func setStatus(of span: any Span, _ plan: DeliveryPlan) {
        switch plan.verdict {
        case .rejected(let code), .failed(let code, _), .callbackNotPublished(let code, _):
            span.setStatus(SpanStatus(code: .error, message: code))
        default:
            if case .deadLetter(let deadLetter) = plan.republish {
                span.setStatus(SpanStatus(code: .error, message: deadLetter.reason.rawValue))
            }
        }
    }

    /// Counts a plan once it has been carried out; `account` `nil` when the delivery named none that could be read.
    /// An account this processor does not have is counted as `unknown` (``ProviderMetricHandles/label(_:)``).
    func count(_ plan: DeliveryPlan, account: MerchantAccount?) {
        let labelled = account ?? .default
        switch plan.verdict {
        case .rejected: metrics.command(outcome: "dead_letter", account: account)
        case .answered: metrics.command(outcome: "response", account: account)
        case .retryScheduled:
            metrics.retry(account: labelled)
            metrics.command(outcome: "retry", account: account)
        case .failed: metrics.command(outcome: "failed", account: account)
        case .pausedForConfiguration, .pausedForOpenCircuit: break
        case .deferred: metrics.command(outcome: "deferred", account: account)
        case .callbackPublished:
            metrics.callback(result: "confirmed", account: labelled)
        case .callbackNotPublished(let code, _):
            metrics.callback(result: code == "CALLBACK_PAYMENT_UNKNOWN" ? "unknown_payment" : "not_confirmed",
                             account: account)
        case .reconciled(let result):
            metrics.reconcileCheck(result: result.rawValue, account: labelled)
        }
        if case .deadLetter(let deadLetter) = plan.republish {
            metrics.deadLetter(reason: deadLetter.reason.rawValue, account: account)
        }
    }
}
