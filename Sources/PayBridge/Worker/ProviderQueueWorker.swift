import AMQP
import Logging
import PayBridgeContract
import PayBridgeRules
import Prometheus
import ServiceLifecycle
import Synchronization

/// Consumes one provider's command queue and processes many commands at once (bounded by the prefetch), as a
/// `Service`.
///
/// - A configuration failure or an open circuit of every merchant account of the provider (``AccountPauses``
///   defers a single account's commands itself, so this happens when all are paused, and always with one account)
///   stops consuming this queue: the triggering command and the
///   ones already received are put back at the tail of the queue unprocessed (re-published, then acked: a `nack`
///   would count toward the queue's delivery limit), the provider is reported not ready, and consuming resumes
///   after a backoff (doubling up to `maximumPause`).
/// - While outcomes cannot be published (``OutcomeGate`` closed), received commands wait unacked before they
///   reach the provider.
/// - Graceful shutdown (SIGTERM): cancel the consumer, finish the commands in flight (publish, ack), return.
final class ProviderQueueWorker: Service, Sendable {
    /// A random base-36 suffix that makes each consumer tag unique (`paybridge-amanpay-3k9x…`).
    static func randomTagSuffix() -> String { String(UInt64.random(in: 0...UInt64.max), radix: 36) }

    struct Settings: Sendable {
        var prefetch: UInt16 = 50
        /// Commands processed at once; at most `prefetch` (the broker never hands out more). `nil` = prefetch.
        var concurrency: Int? = nil
        var initialPause: Duration = .seconds(5)
        var maximumPause: Duration = .seconds(300)

        /// Commands processed at once: `concurrency`, at most `prefetch`.
        var concurrencyLimit: Int { min(concurrency ?? Int(prefetch), Int(prefetch)) }
    }

    let processor: CommandProcessor
    let connection: AMQPConnection
    let settings: Settings
    let readiness: Readiness
    let metrics: PayBridgeMetrics
    let logger: Logger
    private let current = Mutex<AMQPConsumer?>(nil)
    private let stopping = Atomic<Bool>(false)
    /// `paybridge_provider_paused{provider}`: 1 from a pause until consuming resumes.
    private let pausedGauge: Gauge

    init(processor: CommandProcessor, connection: AMQPConnection, settings: Settings, readiness: Readiness,
         metrics: PayBridgeMetrics, logger: Logger) {
        self.processor = processor
        self.connection = connection
        self.settings = settings
        self.readiness = readiness
        self.metrics = metrics
        self.logger = logger
        let provider = processor.provider.rawValue
        pausedGauge = metrics.providerPaused(provider: provider)
        pausedGauge.set(Double(0))
        metrics.consumerCapacity(provider: provider).set(Double(settings.concurrencyLimit))
    }

    var provider: String { processor.provider.rawValue }

    func run() async throws {
        try await withGracefulShutdownHandler {
            try await consumeUntilStopped()
        } onGracefulShutdown: {
            self.stop()
        }
    }

    /// Stops taking new commands; in-flight ones finish. Safe from any context.
    func stop() {
        stopping.store(true, ordering: .releasing)
        current.withLock { $0?.requestCancellation() }
    }

    private func consumeUntilStopped() async throws {
        var pause = settings.initialPause
        while !stopping.load(ordering: .acquiring) {
            let consumer = try await connection.consume(queue: processor.queue, prefetch: settings.prefetch,
                                                        consumerTag: "paybridge-\(provider)-\(Self.randomTagSuffix())")
            current.withLock { $0 = consumer }
            if stopping.load(ordering: .acquiring) { consumer.requestCancellation() }
            logger.info("consuming", metadata: [AMQPLoggingKeys.queue: "\(processor.queue)"])
            let pauseReason = try await consumeOnce(consumer)
            current.withLock { $0 = nil }
            guard let pauseReason, !stopping.load(ordering: .acquiring) else { break }
            readiness.pause(provider: provider, reason: pauseReason)
            pausedGauge.set(Double(1))
            logger.warning("stopped consuming; backing off", metadata: [
                PayBridgeLoggingKeys.reason: "\(pauseReason)", PayBridgeLoggingKeys.pause: "\(pause)",
            ])
            try await sleepUnlessStopping(pause)
            pause = min(pause * 2, settings.maximumPause)
            readiness.resume(provider: provider)
            pausedGauge.set(Double(0))
        }
        logger.info("drained", metadata: [AMQPLoggingKeys.queue: "\(processor.queue)"])
    }

    /// Consumes until the consumer is cancelled; returns the pause reason when a command asked for a pause.
    private func consumeOnce(_ consumer: AMQPConsumer) async throws -> String? {
        let pauseReason = PauseReason()
        // The broker already bounds commands in flight to the prefetch; a limiter only when asked for fewer.
        let concurrency = settings.concurrencyLimit
        let limit = concurrency < Int(settings.prefetch) ? ConcurrencyLimit(concurrency) : nil
        try await withThrowingDiscardingTaskGroup { group in
            for try await delivery in consumer {
                if pauseReason.value != nil {
                    // Paused: what is still buffered goes back untouched.
                    await putBack(delivery)
                    continue
                }
                await limit?.acquire()
                processor.metrics.inFlight(delta: 1)
                group.addTask { [self] in
                    // Outcomes cannot be published right now: wait (unacked) rather than call the provider.
                    await processor.gate.waitUntilOpen()
                    // Cancelled while waiting (shutdown past its drain timeout): never reached the provider.
                    let disposition = Task.isCancelled ? .requeue : await processor.process(delivery)
                    await settle(delivery, disposition, pauseReason: pauseReason, consumer: consumer)
                    processor.metrics.inFlight(delta: -1)
                    await limit?.release()
                }
            }
        }
        return pauseReason.value
    }

    /// Acks or requeues a processed delivery; the first pause request cancels the consumer.
    private func settle(_ delivery: AMQPDelivery, _ disposition: DeliveryDisposition, pauseReason: PauseReason,
                        consumer: AMQPConsumer) async {
        switch disposition {
        case .ack:
            try? await delivery.ack()
        case .requeue:
            try? await delivery.nack(requeue: true)
        case .putBackAndPause(let reason):
            await putBack(delivery)
            if pauseReason.setIfEmpty(reason) { consumer.requestCancellation() }
        }
    }

    /// Re-publishes an unprocessed command to the tail of its queue and acks it (see
    /// ``OutcomeSink/putBack(_:queue:)``); if the broker refuses the copy, falls back to a `nack` with requeue.
    private func putBack(_ delivery: AMQPDelivery) async {
        do {
            try await processor.sink.putBack(
                CommandDelivery(delivery, trustDefaultExchange: processor.trustsDefaultExchange), queue: processor.queue)
            try? await delivery.ack()
            processor.metrics.command(outcome: "put_back")
        } catch {
            logger.warning("could not put the command back in its queue; requeueing it", metadata: [
                PayBridgeLoggingKeys.error: "\(error)", AMQPLoggingKeys.deliveryTag: "\(delivery.deliveryTag)",
            ])
            try? await delivery.nack(requeue: true)
            processor.metrics.command(outcome: "requeued")
        }
    }

    private func sleepUnlessStopping(_ duration: Duration) async throws {
        let deadline = ContinuousClock.now + duration
        while !stopping.load(ordering: .acquiring), ContinuousClock.now < deadline {
            try await Task.sleep(for: min(.milliseconds(250), deadline - .now))
        }
    }
}

/// The first reason a command asked to pause consumption.
final class PauseReason: Sendable {
    private let reason = Mutex<String?>(nil)
    var value: String? { reason.withLock { $0 } }
    /// Sets the reason unless one is set; returns `true` when this call set it.
    func setIfEmpty(_ newReason: String) -> Bool {
        reason.withLock { current in
            guard current == nil else { return false }
            current = newReason
            return true
        }
    }
}
