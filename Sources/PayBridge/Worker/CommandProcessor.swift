import AMQP
import Logging
import PayBridgeContract
import ProviderCore
import Synchronization

/// What to do with a delivery once it has been processed.
enum DeliveryDisposition: Equatable {
    /// Its outcome (event, retry or dead letter) is confirmed by the broker: ack it.
    case ack
    /// Put it back and stop consuming this provider for a while (configuration failure, open circuit).
    case putBackAndPause(reason: String)
    /// Its outcome was not published and the worker is shutting down: put it back; it is redelivered and goes
    /// through status-first.
    case requeue
}

/// Processes one command delivery: validate, execute, publish the outcome, decide ack/put back.
///
/// The rules (issues 4 and 9):
/// - invalid command (too large, bad JSON, schema violation, unusable PayBridge headers) → `command.failed`
///   (invalid_command) + dead-letter queue with the reason; never requeued.
/// - provider answered → `payment.response` (including declines and `unknown` after an unresolved ambiguous
///   create).
/// - transient failure after the client's in-process retries → broker-side delayed retry with the attempt count
///   in `x-paybridge-attempt`; past `maxAttempts` → `command.failed` (retries_exhausted) + dead-letter queue.
/// - configuration failure / open circuit → put back and pause the provider (commands are not burned).
/// - an outcome that cannot be published is retried with backoff (``OutcomeRetry``) while the command waits,
///   unacked; the provider is not called again, and ``OutcomeGate`` holds the commands behind it back.
/// - the delivery is acked only after its outcome is confirmed.
final class CommandProcessor: Sendable {
    let executor: any PaymentCommandExecutor
    let publisher: OutcomePublisher
    let metrics: ProviderMetricHandles
    let maxAttempts: Int
    let outcomeRetry: OutcomeRetry
    let logger: Logger
    private let decoder: CommandDecoder
    private let seenCommands = Mutex(RecentIDs(capacity: 100_000))

    init(executor: any PaymentCommandExecutor, publisher: OutcomePublisher, metrics: PayBridgeMetrics,
         maxAttempts: Int, maxCommandBytes: Int = CommandDecoder.defaultMaximumBytes,
         outcomeRetry: OutcomeRetry, logger: Logger) {
        self.executor = executor
        self.publisher = publisher
        self.metrics = metrics.handles(provider: executor.provider.rawValue,
                                       operations: executor.provider.commandKinds.map(\.operation))
        self.maxAttempts = maxAttempts
        self.decoder = CommandDecoder(maximumBytes: maxCommandBytes)
        self.outcomeRetry = outcomeRetry
        self.logger = logger
    }

    var provider: Provider { executor.provider }
    var queue: String { Topology.commandQueue(provider) }

    func process(_ delivery: AMQPDelivery) async -> DeliveryDisposition {
        let headers = CommandHeaders(properties: delivery.properties, deliveryRoutingKey: delivery.routingKey)
        let attempt = headers.attempt
        let routingKey = headers.routingKey
        // Metadata is built only when a line is actually logged (swift-log takes it as an autoclosure).
        var log = CommandLog(logger: logger, provider: provider.rawValue, attempt: attempt,
                             deliveryTag: delivery.deliveryTag)
        do {
            let decoded: Result<PaymentCommand, CommandRejection> = if let problem = headers.problem {
                .failure(.unusableMetadata(code: problem.code, message: problem.message, body: delivery.body,
                                           routingKey: routingKey))
            } else {
                decoder.decode(delivery.body, routingKey: routingKey)
            }
            switch decoded {
            case .failure(let rejection):
                log.commandId = rejection.commandId
                log.warning("invalid command dead-lettered", ["paybridge.reason": "\(rejection.code)"])
                let failed = OutcomeEvents.commandFailed(rejection: rejection, provider: provider)
                try await persistently(log) { try await publisher.publish(failed) }
                try await persistently(log) {
                    try await publisher.deadLetter(
                        delivery, sourceQueue: queue, originalRoutingKey: routingKey, attempt: attempt,
                        reason: .invalidCommand, code: rejection.code, detail: rejection.message,
                        failedEventId: failed.event.id)
                }
                metrics.command(outcome: "dead_letter")
                metrics.deadLetter(reason: ErrorClass.invalidCommand.rawValue)
                return .ack
            case .success(let command):
                log.commandId = command.id
                log.operation = command.kind.rawValue
                return try await execute(command, delivery: delivery, attempt: attempt, routingKey: routingKey,
                                         logger: log)
            }
        } catch {
            // Only cancellation ends the publish retries: the worker is shutting down past its drain timeout.
            // Nothing was acked, so the command comes back and goes through status-first.
            log.error("shutting down before the outcome was published; requeueing the command",
                      ["error": "\(error)"])
            metrics.command(outcome: "requeued")
            return .requeue
        }
    }

    /// Runs a publish until the broker confirms it: on failure the ``OutcomeGate`` closes and the publish (never
    /// the provider call) is retried with backoff. Throws only `CancellationError`.
    private func persistently(_ log: CommandLog, _ publish: () async throws -> Void) async throws {
        var failures = 0
        while true {
            do {
                try await publish()
                if failures > 0 { log.info("outcome published after \(failures) failed attempts") }
                publisher.gate.publishSucceeded()
                return
            } catch {
                try Task.checkCancellation()
                let reason = OutcomeRetry.reason(error)
                publisher.gate.publishFailed(reason: reason)
                metrics.outcomePublishFailure(reason: reason)
                let delay = outcomeRetry.delay(afterFailures: failures)
                failures += 1
                log.error("could not publish the outcome; the command waits and the publish is retried",
                          ["error": "\(error)", "paybridge.retry_in": "\(delay)"])
                try await Task.sleep(for: delay)
            }
        }
    }

    private func execute(
        _ command: PaymentCommand, delivery: AMQPDelivery, attempt: Int, routingKey: String, logger: CommandLog
    ) async throws -> DeliveryDisposition {
        let seenBefore = seenCommands.withLock { $0.insert(command.id) }
        let statusFirst = command.kind.createsPayment && (delivery.redelivered || attempt > 1 || seenBefore)
        if seenBefore { logger.info("command id seen before: status-first") }
        let started = ContinuousClock.now
        defer { metrics.providerLatency(operation: command.operation, .now - started) }
        do {
            let result = try await executor.execute(command, statusFirst: statusFirst)
            if result.status == .unknown, let error = result.error, error.errorClass == .ambiguous {
                // The client could not settle whether the create took effect. A broker-side retry goes through
                // status-first, so it adopts the payment if it exists and creates it only if it does not.
                return try await retryOrGiveUp(
                    command, delivery: delivery, attempt: attempt, routingKey: routingKey, code: error.code,
                    message: error.message, raw: result.rawBody, logger: logger)
            }
            let outcome = OutcomeMapping.outcome(
                result, provider: provider, commandId: command.id, operation: command.operation,
                paymentId: command.paymentId, attempts: attempt)
            let event = OutcomeEvents.response(outcome)
            try await persistently(logger) { try await publisher.publish(event) }
            metrics.command(outcome: "response")
            logger.debug("command executed", ["paybridge.status": "\(outcome.status.rawValue)"])
            return .ack
        } catch let error as ProviderError {
            return try await handle(error, command: command, delivery: delivery, attempt: attempt,
                                    routingKey: routingKey, logger: logger)
        } catch let error as CommandDataError {
            return try await fail(command, delivery: delivery, attempt: attempt, routingKey: routingKey,
                                  code: "INVALID_COMMAND_DATA", message: error.description, errorClass: .invalidCommand,
                                  status: .failed, deadLetter: true, logger: logger)
        }
    }

    private func handle(
        _ error: ProviderError, command: PaymentCommand, delivery: AMQPDelivery, attempt: Int, routingKey: String,
        logger: CommandLog
    ) async throws -> DeliveryDisposition {
        switch error.errorClass {
        case .configuration:
            logger.error("provider rejected PayBridge's configuration; pausing this provider", ["error": "\(error)"])
            return .putBackAndPause(reason: "configuration: \(error.code)")
        case _ where error.isCircuitOpen:
            logger.warning("circuit open; pausing this provider", ["error": "\(error)"])
            return .putBackAndPause(reason: "circuit open")
        case .transient, .ambiguous:
            return try await retryOrGiveUp(
                command, delivery: delivery, attempt: attempt, routingKey: routingKey, code: error.code,
                message: error.message, raw: error.rawBody, logger: logger)
        default:
            // Declines arrive as results; what lands here is a request the provider refused (invalid_request,
            // dead-lettered: it cannot succeed as sent) or a payment it does not know (lookup: `not_found`, status
            // failed but not final, since a create still in flight may make it appear).
            let isLookup = error.errorClass == .lookup
            return try await fail(
                command, delivery: delivery, attempt: attempt, routingKey: routingKey, code: error.code,
                message: error.message, errorClass: OutcomeMapping.errorClass(error.errorClass), status: .failed,
                final: !isLookup, deadLetter: !isLookup, logger: logger, raw: error.rawBody)
        }
    }

    /// Transient trouble (or a create whose outcome stayed open): a broker-side retry while attempts remain;
    /// then `command.failed` (retries_exhausted) and the dead-letter queue. A create that may exist is reported
    /// with status `unknown`, never `failed` (A5, F8).
    private func retryOrGiveUp(
        _ command: PaymentCommand, delivery: AMQPDelivery, attempt: Int, routingKey: String, code: String,
        message: String, raw: String?, logger: CommandLog
    ) async throws -> DeliveryDisposition {
        guard attempt < maxAttempts else {
            logger.error("retries exhausted; dead-lettering", ["paybridge.error": "\(code)"])
            return try await fail(
                command, delivery: delivery, attempt: attempt, routingKey: routingKey, code: code,
                message: "gave up after \(attempt) attempts: \(message)", errorClass: .retriesExhausted,
                status: command.kind.createsPayment ? .unknown : .failed, deadLetter: true, logger: logger, raw: raw)
        }
        try await persistently(logger) {
            try await publisher.scheduleRetry(of: delivery, provider: provider, nextAttempt: attempt + 1,
                                              originalRoutingKey: routingKey)
        }
        metrics.retry()
        metrics.command(outcome: "retry")
        logger.info("transient failure; broker-side retry scheduled", [
            "paybridge.error": "\(code)", "paybridge.next_attempt": "\(attempt + 1)",
        ])
        return .ack
    }

    private func fail(
        _ command: PaymentCommand, delivery: AMQPDelivery, attempt: Int, routingKey: String, code: String,
        message: String, errorClass: ErrorClass, status: PaymentStatus, final: Bool? = nil,
        deadLetter: Bool, logger: CommandLog, raw: String? = nil
    ) async throws -> DeliveryDisposition {
        let outcome = OutcomeMapping.failure(
            command, code: code, message: message, errorClass: errorClass, status: status, final: final,
            attempts: attempt, raw: raw)
        let failed = OutcomeEvents.commandFailed(outcome)
        try await persistently(logger) { try await publisher.publish(failed) }
        metrics.command(outcome: "failed")
        if deadLetter {
            try await persistently(logger) {
                try await publisher.deadLetter(
                    delivery, sourceQueue: queue, originalRoutingKey: routingKey, attempt: attempt,
                    reason: errorClass, code: code, detail: message, failedEventId: failed.event.id)
            }
            metrics.deadLetter(reason: errorClass.rawValue)
        }
        logger.warning("command failed", ["paybridge.error": "\(code)", "paybridge.class": "\(errorClass)"])
        return .ack
    }
}

/// A bounded set of recently seen ids (oldest forgotten first).
struct RecentIDs {
    let capacity: Int
    private var set: Set<String> = []
    private var order: [String] = []
    private var head = 0

    init(capacity: Int) { self.capacity = capacity }

    /// Records `id`; returns `true` when it was already there.
    mutating func insert(_ id: String) -> Bool {
        if set.contains(id) { return true }
        set.insert(id)
        if order.count < capacity {
            order.append(id)
        } else {
            set.remove(order[head])
            order[head] = id
            head = (head + 1) % capacity
        }
        return false
    }
}

/// A command's log context; the metadata dictionary is built only for lines that pass the log level.
struct CommandLog {
    let logger: Logger
    let provider: String
    let attempt: Int
    let deliveryTag: UInt64
    var commandId: String?
    var operation: String?

    private func metadata(_ extra: Logger.Metadata) -> Logger.Metadata {
        var metadata = extra
        metadata["paybridge.provider"] = "\(provider)"
        metadata["paybridge.attempt"] = "\(attempt)"
        metadata[AMQPLoggingKeys.deliveryTag] = "\(deliveryTag)"
        if let commandId { metadata["paybridge.command_id"] = "\(commandId)" }
        if let operation { metadata["paybridge.operation"] = "\(operation)" }
        return metadata
    }

    func debug(_ message: @autoclosure () -> Logger.Message, _ extra: @autoclosure () -> Logger.Metadata = [:]) {
        logger.debug(message(), metadata: metadata(extra()))
    }
    func info(_ message: @autoclosure () -> Logger.Message, _ extra: @autoclosure () -> Logger.Metadata = [:]) {
        logger.info(message(), metadata: metadata(extra()))
    }
    func warning(_ message: @autoclosure () -> Logger.Message, _ extra: @autoclosure () -> Logger.Metadata = [:]) {
        logger.warning(message(), metadata: metadata(extra()))
    }
    func error(_ message: @autoclosure () -> Logger.Message, _ extra: @autoclosure () -> Logger.Metadata = [:]) {
        logger.error(message(), metadata: metadata(extra()))
    }
}
