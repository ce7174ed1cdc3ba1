import CRabbitMQ
import CRabbitMQShims
import Foundation
import Logging
import Synchronization

/// The one thread that owns a connection's librabbitmq state, and the mailbox through which async callers talk
/// to it.
///
/// Why a thread: librabbitmq is blocking and not thread-safe, and it services heartbeats only while a call into
/// it is running. The loop waits on the socket *and* an eventfd with `poll(2)` for at most
/// `min(pollInterval, heartbeat/2)`, then always calls into librabbitmq once, so heartbeats flow whether the
/// application is busy or idle, and a command posted by a caller wakes the thread at once.
///
/// `@unchecked Sendable` invariant: the stored properties marked "I/O thread" are read and written only on the
/// thread started in ``start(_:)`` (every access is reached from `run`/`start`, never from a caller), and the
/// only state callers touch is `mailbox` (a `Mutex`), `wakeFD` (an immutable fd; `write(2)` is thread-safe),
/// and the immutable `configuration`, `logger` and event stream.
final class AMQPIOLoop: @unchecked Sendable {
    let configuration: AMQPConfiguration
    let logger: Logger
    let events: AsyncStream<AMQPConnectionEvent>
    private let eventSink: AsyncStream<AMQPConnectionEvent>.Continuation

    private struct Mailbox {
        var commands: [Command] = []
        var sleeping = false
        var finished = false
    }
    private let mailbox = Mutex(Mailbox())
    private let wakeFD: Int32

    // MARK: I/O thread state
    private var handle: LibRabbitMQHandle?
    /// Commands that cannot run yet (disconnected, or publishes while the broker blocks us), in arrival order.
    private var backlog: [Command] = []
    /// Incarnation of the consuming channel; deliveries carry it, settlements of older ones are never sent.
    private var epoch: UInt64 = 0 {
        didSet { publishedEpoch.store(epoch, ordering: .releasing) }
    }
    /// `epoch` as callers may read it, so a stale settlement fails at once without a trip to the I/O thread.
    private let publishedEpoch = Atomic<UInt64>(0)
    private var nextPublishSequence: UInt64 = 1
    private var lowestUnconfirmed: UInt64 = 1
    private var unconfirmed: [UInt64: PendingPublish] = [:]
    /// No publish (waiting in `backlog` or unconfirmed) has a deadline before this; `nil`: none has one.
    /// `expireOverduePublishes` looks at them only once this passes, so the common path costs one clock read.
    private var earliestDeadline: ContinuousClock.Instant?
    private var consumers: [String: ConsumerRecord] = [:]
    private var consumerOrder: [String] = []
    private var consumersWithPending: [String] = []
    private var exchanges: [AMQPExchange] = []
    private var queues: [AMQPQueue] = []
    private var bindings: [AMQPBinding] = []
    private var blocked = false
    private var closeRequests: [CheckedContinuation<Void, Never>?] = []
    private var closing = false

    init(configuration: AMQPConfiguration, logger: Logger) {
        self.configuration = configuration
        var logger = logger
        logger[metadataKey: AMQPLoggingKeys.endpoint] = "\(configuration.endpoint)"
        logger[metadataKey: AMQPLoggingKeys.connectionName] = "\(configuration.connectionName)"
        self.logger = logger
        (events, eventSink) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(256))
        wakeFD = crmq_wake_fd_create()
    }

    deinit {
        close(wakeFD)
    }

    // MARK: - Caller side (any thread)

    enum Command {
        case topology(TopologyOperation, CheckedContinuation<AMQPQueueState?, any Error>)
        case publish(PendingPublish)
        case publishBatch([AMQPMessage], deadline: ContinuousClock.Instant?,
                          CheckedContinuation<[Result<Void, AMQPError>], Never>)
        case consume(ConsumerRecord, CheckedContinuation<Void, any Error>)
        case cancel(String, CheckedContinuation<Void, Never>?)
        /// Fire-and-forget: the caller already checked the epoch; the I/O thread checks it again before sending.
        case settle(epoch: UInt64, tag: UInt64, LibRabbitMQHandle.Settlement)
        case close(CheckedContinuation<Void, Never>?)

        /// Publishes and settlements: the I/O thread sends them and moves on (confirms arrive through the frame
        /// loop), so several can share a corked socket.
        var needsNoReply: Bool {
            switch self {
            case .publish, .publishBatch, .settle: true
            default: false
            }
        }

        /// When the caller of a publish (single or batch) stops waiting; `nil` for other commands.
        var publishDeadline: ContinuousClock.Instant? {
            switch self {
            case .publish(let publish): publish.deadline
            case .publishBatch(_, let deadline, _): deadline
            default: nil
            }
        }

        func fail(_ error: AMQPError) {
            switch self {
            case .topology(_, let c): c.resume(throwing: error)
            case .publish(let p): p.completion.complete(.failure(error))
            case .publishBatch(let messages, _, let c): c.resume(returning: messages.map { _ in .failure(error) })
            case .consume(let r, let c):
                r.continuation.finish(throwing: error)
                c.resume(throwing: error)
            case .cancel(_, let c): c?.resume()
            case .settle: return
            case .close(let c): c?.resume()
            }
        }
    }

    enum TopologyOperation {
        case declareExchange(AMQPExchange)
        case deleteExchange(String)
        case declareQueue(AMQPQueue)
        case deleteQueue(String)
        case purgeQueue(String)
        case bind(AMQPBinding)
    }

    struct PendingPublish {
        var exchange: String
        var routingKey: String
        var mandatory: Bool
        var properties: AMQPProperties
        var body: [UInt8]
        var completion: PublishCompletion
        /// When the caller stops waiting for the confirm (`confirmTimeout` of ``AMQPConnection``'s publish).
        var deadline: ContinuousClock.Instant? = nil
        var returned: AMQPError? = nil
    }

    /// Who waits for a publish's confirm: its own caller, or a slot of a batch.
    enum PublishCompletion {
        case single(CheckedContinuation<Void, any Error>)
        case batch(PublishBatch, Int)

        func complete(_ result: Result<Void, AMQPError>) {
            switch self {
            case .single(let continuation):
                switch result {
                case .success: continuation.resume()
                case .failure(let error): continuation.resume(throwing: error)
                }
            case .batch(let batch, let index): batch.complete(index, result)
            }
        }
    }

    /// The confirms of one ``AMQPConnection/publish(batch:)`` call; resumes its caller once, when all are in.
    ///
    /// `@unchecked Sendable` invariant: an instance is created in `execute(_:)` on the I/O thread and is reachable
    /// only from `unconfirmed` and the `PendingPublish` values the I/O thread builds, so `results` and `remaining`
    /// are only ever touched on that thread. (Sendable only so that `Command`, which can carry a completion, can
    /// pass through the mailbox.)
    final class PublishBatch: @unchecked Sendable {
        private var results: [Result<Void, AMQPError>]
        private var remaining: Int
        private let continuation: CheckedContinuation<[Result<Void, AMQPError>], Never>

        init(count: Int, continuation: CheckedContinuation<[Result<Void, AMQPError>], Never>) {
            results = Array(repeating: .success(()), count: count)
            remaining = count
            self.continuation = continuation
            if count == 0 { continuation.resume(returning: []) }
        }

        func complete(_ index: Int, _ result: Result<Void, AMQPError>) {
            results[index] = result
            remaining -= 1
            if remaining == 0 { continuation.resume(returning: results) }
        }
    }

    struct ConsumerRecord {
        var tag: String
        var queue: String
        var prefetch: UInt16
        var arguments: AMQPTable
        var continuation: AsyncThrowingStream<[AMQPDelivery], any Error>.Continuation
        /// Deliveries read in the current frame-loop pass, handed over in one `yield` at its end.
        var pending: [AMQPDelivery] = []
    }

    @discardableResult
    func enqueue(_ command: Command) -> Bool {
        let (wake, rejected) = mailbox.withLock { box -> (Bool, Bool) in
            if box.finished { return (false, true) }
            box.commands.append(command)
            if box.sleeping {
                box.sleeping = false
                return (true, false)
            }
            return (false, false)
        }
        if rejected {
            command.fail(AMQPError(.alreadyClosed, "the connection is closed", host: configuration.endpoint))
            return false
        }
        if wake {
            crmq_wake_fd_signal(wakeFD)
        }
        return true
    }

    /// Queues an ack/nack/reject for the I/O thread without waiting for it: a settlement needs no reply, and
    /// not waiting saves a thread hop per message. Fails at once when the delivery is already stale or the
    /// connection is closed; one that turns stale while queued is dropped by the I/O thread (the broker
    /// redelivers the message either way).
    func settle(_ delivery: AMQPDelivery, _ settlement: LibRabbitMQHandle.Settlement) throws(AMQPError) {
        guard delivery.epoch == publishedEpoch.load(ordering: .acquiring) else {
            throw AMQPError(.staleDelivery, "delivery \(delivery.deliveryTag) came from a connection or channel "
                                + "that is gone; not sent (the broker redelivers it)", host: configuration.endpoint,
                            operation: "basic.\(settlement)")
        }
        guard enqueue(.settle(epoch: delivery.epoch, tag: delivery.deliveryTag, settlement)) else {
            throw AMQPError(.alreadyClosed, "the connection is closed", host: configuration.endpoint,
                            operation: "basic.\(settlement)")
        }
    }

    func cancelConsumer(tag: String) async {
        await withCheckedContinuation { continuation in
            enqueue(.cancel(tag, continuation))
        }
    }

    // MARK: - I/O thread

    /// Runs on the new thread: opens the connection, reports the outcome of the first attempt to `connected`
    /// (a wrong password or a closed port fails fast, without retries), then serves until closed.
    func start(_ connected: CheckedContinuation<Void, any Error>) {
        do {
            handle = try LibRabbitMQHandle.open(configuration)
        } catch {
            mailbox.withLock { $0.finished = true }
            connected.resume(throwing: error)
            return
        }
        logger.debug("AMQP connection open")
        connected.resume()
        run()
    }

    private func run() {
        while true {
            if handle == nil, !reconnect() { break }
            serveCommands()
            expireOverduePublishes()
            if closing { break }
            guard let handle else { continue }
            do {
                if !handle.hasBufferedFrames { waitForSocketOrCommand(socket: handle.socketFD) }
                var frames = 0
                while frames < 512, let frame = try handle.nextFrame() {
                    try dispatch(frame, handle)
                    frames += 1
                }
                flushDeliveries()
                handle.releaseBuffersIfPossible()
            } catch {
                connectionLost(error)
            }
        }
        shutDown()
    }

    private var maximumSleepMilliseconds: Int32 {
        var bound = configuration.pollInterval
        if configuration.heartbeat > .zero { bound = min(bound, configuration.heartbeat / 2) }
        let (seconds, attoseconds) = bound.components
        return Int32(max(1, seconds * 1000 + attoseconds / 1_000_000_000_000_000))
    }

    /// Sleeps in `poll(2)` until the socket is readable, a command arrives, or the bound passes.
    private func waitForSocketOrCommand(socket: Int32, milliseconds: Int32? = nil) {
        let sleep = mailbox.withLock { box -> Bool in
            guard box.commands.isEmpty else { return false }
            box.sleeping = true
            return true
        }
        guard sleep else { return }
        _ = crmq_poll_socket_and_wake(socket, wakeFD, milliseconds ?? maximumSleepMilliseconds)
        mailbox.withLock { $0.sleeping = false }
        crmq_wake_fd_drain(wakeFD)
    }

    private func serveCommands() {
        let incoming = mailbox.withLock { box -> [Command] in
            defer { box.commands.removeAll(keepingCapacity: true) }
            return box.commands
        }
        guard !incoming.isEmpty || !backlog.isEmpty else { return }
        var pending = backlog
        pending.append(contentsOf: incoming)
        backlog.removeAll(keepingCapacity: true)
        // Runs of publishes and acks go out corked (one push per run); anything that waits for a reply does not.
        defer { handle?.setCorked(false) }
        for (index, command) in pending.enumerated() {
            handle?.setCorked(command.needsNoReply)
            if !execute(command) { backlog.append(command) }
            if handle == nil, index + 1 < pending.count {
                // The connection dropped while serving: everything after waits for the reconnect.
                for later in pending[(index + 1)...] { backlog.append(later) }
                return
            }
        }
    }

    /// Runs one command; returns `false` when it must wait (disconnected, or a publish while blocked).
    private func execute(_ command: Command) -> Bool {
        noteDeadline(command.publishDeadline)
        switch command {
        case .close(let continuation):
            closeRequests.append(continuation)
            closing = true
            return true
        case .settle(let deliveryEpoch, let tag, let settlement):
            guard let handle, deliveryEpoch == epoch else {
                logger.debug("dropped a settlement of a delivery from a replaced channel",
                             metadata: [AMQPLoggingKeys.deliveryTag: "\(tag)"])
                return true
            }
            do {
                try handle.settle(deliveryTag: tag, settlement)
            } catch {
                connectionLost(error)
            }
            return true
        case .cancel(let tag, let continuation):
            flushDeliveries()
            if let record = consumers.removeValue(forKey: tag) {
                consumerOrder.removeAll { $0 == tag }
                if let handle {
                    do { try handle.cancel(consumerTag: tag) } catch { connectionLost(error) }
                }
                record.continuation.finish()
            }
            continuation?.resume()
            return true
        case .topology(let operation, let continuation):
            guard let handle else { return false }
            do {
                let result = try runTopology(operation, on: handle)
                continuation.resume(returning: result)
            } catch {
                continuation.resume(throwing: error)
                if error.code != .channelClosed { connectionLost(error) }
            }
            return true
        case .publish(let publish):
            guard let handle, !blocked else { return false }
            do {
                try send(publish, on: handle)
            } catch {
                publish.completion.complete(.failure(error))
                // A message that cannot be encoded was never sent: the connection is fine.
                if error.code != .invalidConfiguration { connectionLost(error) }
            }
            return true
        case .publishBatch(let messages, let deadline, let continuation):
            guard let handle, !blocked else { return false }
            let batch = PublishBatch(count: messages.count, continuation: continuation)
            for (index, message) in messages.enumerated() {
                guard self.handle != nil else {
                    batch.complete(index, .failure(AMQPError(
                        .connectionClosed, "the connection dropped before this message was sent; publish it again",
                        host: configuration.endpoint, operation: "basic.publish")))
                    continue
                }
                do {
                    try send(PendingPublish(
                        exchange: message.exchange, routingKey: message.routingKey, mandatory: message.mandatory,
                        properties: message.properties, body: message.body, completion: .batch(batch, index),
                        deadline: deadline), on: handle)
                } catch {
                    batch.complete(index, .failure(error))
                    if error.code != .invalidConfiguration { connectionLost(error) }
                }
            }
            return true
        case .consume(let record, let continuation):
            guard let handle else { return false }
            do {
                try handle.qos(prefetch: record.prefetch)
                try handle.consume(queue: record.queue, consumerTag: record.tag, arguments: record.arguments)
                consumers[record.tag] = record
                consumerOrder.append(record.tag)
                continuation.resume()
            } catch {
                record.continuation.finish(throwing: error)
                continuation.resume(throwing: error)
                if error.code == .channelClosed {
                    reopenConsumeChannel(after: error)
                } else {
                    connectionLost(error)
                }
            }
            return true
        }
    }

    /// Sends one message and records it until its confirm, under the next publish sequence number. The body is
    /// kept only for `mandatory` messages: it is how a `basic.return` is matched to its publish.
    private func send(_ publish: PendingPublish, on handle: LibRabbitMQHandle) throws(AMQPError) {
        try handle.publish(exchange: publish.exchange, routingKey: publish.routingKey, mandatory: publish.mandatory,
                           properties: publish.properties, body: publish.body)
        var record = publish
        if !record.mandatory { record.body = [] }
        unconfirmed[nextPublishSequence] = record
        nextPublishSequence += 1
    }

    private func noteDeadline(_ deadline: ContinuousClock.Instant?) {
        guard let deadline else { return }
        if let earliest = earliestDeadline, earliest <= deadline { return }
        earliestDeadline = deadline
    }

    /// Fails publishes whose caller's deadline passed: those still waiting to be sent (disconnected, or blocked by
    /// the broker) are dropped unsent; those sent but unconfirmed stop being waited for (a late confirm is
    /// ignored; the broker may still deliver the message, so the error says so).
    private func expireOverduePublishes() {
        guard let earliest = earliestDeadline else { return }
        let now = ContinuousClock.now
        guard now >= earliest else { return }
        var next: ContinuousClock.Instant?
        func keep(_ deadline: ContinuousClock.Instant?) {
            if let deadline, next.map({ deadline < $0 }) ?? true { next = deadline }
        }
        let unsent = AMQPError(.timeout, "not sent within the caller's confirm timeout (the connection is down or "
                                   + "the broker blocks publishing); it was dropped: publish it again",
                               host: configuration.endpoint, operation: "basic.publish")
        backlog.removeAll { command in
            guard let deadline = command.publishDeadline, deadline <= now else {
                keep(command.publishDeadline)
                return false
            }
            command.fail(unsent)
            return true
        }
        let overdue = unconfirmed.filter { _, publish in
            guard let deadline = publish.deadline, deadline <= now else { keep(publish.deadline); return false }
            return true
        }
        if !overdue.isEmpty {
            let unconfirmedError = AMQPError(
                .timeout, "no broker confirm within the caller's confirm timeout; the broker may still deliver it",
                host: configuration.endpoint, operation: "basic.publish")
            for sequence in overdue.keys.sorted() {
                unconfirmed.removeValue(forKey: sequence)?.completion.complete(.failure(unconfirmedError))
            }
            logger.warning("publishes not confirmed in time", metadata: ["amqp.count": "\(overdue.count)"])
        }
        earliestDeadline = next
    }

    private func runTopology(_ operation: TopologyOperation, on handle: LibRabbitMQHandle) throws(AMQPError)
        -> AMQPQueueState?
    {
        switch operation {
        case .declareExchange(let exchange):
            try handle.declareExchange(exchange)
            if !exchange.passive {
                exchanges.removeAll { $0.name == exchange.name }
                exchanges.append(exchange)
            }
            return nil
        case .deleteExchange(let name):
            try handle.deleteExchange(name)
            exchanges.removeAll { $0.name == name }
            bindings.removeAll { $0.exchange == name }
            return nil
        case .declareQueue(let queue):
            let state = try handle.declareQueue(queue)
            if !queue.passive {
                queues.removeAll { $0.name == queue.name }
                queues.append(queue)
            }
            return state
        case .deleteQueue(let name):
            let count = try handle.deleteQueue(name)
            queues.removeAll { $0.name == name }
            bindings.removeAll { $0.queue == name }
            return AMQPQueueState(name: name, messageCount: count, consumerCount: 0)
        case .purgeQueue(let name):
            let count = try handle.purgeQueue(name)
            return AMQPQueueState(name: name, messageCount: count, consumerCount: 0)
        case .bind(let binding):
            try handle.bind(binding)
            if !bindings.contains(binding) { bindings.append(binding) }
            return nil
        }
    }

    // MARK: Frames

    private func dispatch(_ frame: amqp_frame_t, _ handle: LibRabbitMQHandle) throws(AMQPError) {
        guard frame.frame_type == UInt8(AMQP_FRAME_METHOD) else { return }
        let method = frame.payload.method
        switch method.id {
        case LibRabbitMQMethod.basicDeliver:
            let deliver = method.decoded.assumingMemoryBound(to: amqp_basic_deliver_t.self).pointee
            let tag = LibRabbitMQDecoding.string(deliver.consumer_tag)
            let deliveryTag = deliver.delivery_tag
            let redelivered = deliver.redelivered != 0
            let exchange = LibRabbitMQDecoding.string(deliver.exchange)
            let routingKey = LibRabbitMQDecoding.string(deliver.routing_key)
            let (properties, body) = try handle.readContent(channel: frame.channel)
            guard let record = consumers[tag] else {
                // Delivered after we cancelled the consumer: hand it back to the queue.
                try handle.settle(deliveryTag: deliveryTag, .reject(requeue: true))
                return
            }
            if consumers[tag]!.pending.isEmpty { consumersWithPending.append(tag) }
            consumers[tag]!.pending.append(AMQPDelivery(
                body: body, properties: properties, deliveryTag: deliveryTag, redelivered: redelivered,
                exchange: exchange, routingKey: routingKey, consumerTag: tag, epoch: epoch, loop: self))
            _ = record
        case LibRabbitMQMethod.basicAck:
            let ack = method.decoded.assumingMemoryBound(to: amqp_basic_ack_t.self).pointee
            confirm(upTo: ack.delivery_tag, multiple: ack.multiple != 0, nackReason: nil)
        case LibRabbitMQMethod.basicNack:
            let nack = method.decoded.assumingMemoryBound(to: amqp_basic_nack_t.self).pointee
            confirm(upTo: nack.delivery_tag, multiple: nack.multiple != 0,
                    nackReason: AMQPError(.publishNacked, "the broker refused the message (basic.nack)",
                                          host: configuration.endpoint, operation: "basic.publish"))
        case LibRabbitMQMethod.basicReturn:
            let ret = method.decoded.assumingMemoryBound(to: amqp_basic_return_t.self).pointee
            let replyCode = ret.reply_code
            let replyText = LibRabbitMQDecoding.string(ret.reply_text)
            let exchange = LibRabbitMQDecoding.string(ret.exchange)
            let routingKey = LibRabbitMQDecoding.string(ret.routing_key)
            let (_, body) = try handle.readContent(channel: frame.channel)
            markReturned(exchange: exchange, routingKey: routingKey, body: body, replyCode: replyCode,
                         replyText: replyText)
        case LibRabbitMQMethod.basicCancel:
            let cancel = method.decoded.assumingMemoryBound(to: amqp_basic_cancel_t.self).pointee
            let tag = LibRabbitMQDecoding.string(cancel.consumer_tag)
            flushDeliveries()
            if let record = consumers.removeValue(forKey: tag) {
                consumerOrder.removeAll { $0 == tag }
                logger.info("broker cancelled consumer", metadata: [AMQPLoggingKeys.consumerTag: "\(tag)",
                                                                    AMQPLoggingKeys.queue: "\(record.queue)"])
                record.continuation.finish(throwing: AMQPError(
                    .consumerCancelled, "the broker cancelled the consumer (queue deleted or unavailable)",
                    host: configuration.endpoint, operation: "basic.consume(\(record.queue))"))
                eventSink.yield(.consumerCancelled(consumerTag: tag, queue: record.queue))
            }
        case LibRabbitMQMethod.channelClose:
            let close = method.decoded.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
            let error = AMQPError(.channelClosed, "broker closed channel \(frame.channel)",
                                  replyCode: close.reply_code, replyText: LibRabbitMQDecoding.string(close.reply_text),
                                  host: configuration.endpoint)
            handle.sendChannelCloseOk(frame.channel)
            logger.warning("broker closed a channel", metadata: ["amqp.channel": "\(frame.channel)",
                                                                 "amqp.reply": "\(error.replyCode ?? 0) \(error.replyText ?? "")"])
            switch frame.channel {
            case LibRabbitMQHandle.publishChannel:
                failUnconfirmed(error)
                try handle.openChannel(LibRabbitMQHandle.publishChannel, confirm: true)
                nextPublishSequence = 1
                lowestUnconfirmed = 1
            case LibRabbitMQHandle.consumeChannel:
                reopenConsumeChannel(after: error)
            default:
                try handle.openChannel(frame.channel, confirm: false)
            }
        case LibRabbitMQMethod.connectionClose:
            let close = method.decoded.assumingMemoryBound(to: amqp_connection_close_t.self).pointee
            handle.sendConnectionCloseOk()
            throw AMQPError(.connectionClosed, "broker closed the connection", replyCode: close.reply_code,
                            replyText: LibRabbitMQDecoding.string(close.reply_text), host: configuration.endpoint)
        case LibRabbitMQMethod.connectionBlocked:
            let blockedMethod = method.decoded.assumingMemoryBound(to: amqp_connection_blocked_t.self).pointee
            let reason = LibRabbitMQDecoding.string(blockedMethod.reason)
            blocked = true
            logger.warning("broker blocked publishing", metadata: ["amqp.reason": "\(reason)"])
            eventSink.yield(.blocked(reason: reason))
        case LibRabbitMQMethod.connectionUnblocked:
            blocked = false
            logger.info("broker unblocked publishing")
            eventSink.yield(.unblocked)
        default:
            return  // cancel-ok and other replies we do not wait for
        }
    }

    /// One hand-over per consumer per frame-loop pass: waking the consuming task once for a burst, not once per
    /// message, is what keeps the client close to a plain C loop.
    private func flushDeliveries() {
        for tag in consumersWithPending {
            guard var record = consumers[tag], !record.pending.isEmpty else { continue }
            record.continuation.yield(record.pending)
            record.pending.removeAll(keepingCapacity: true)
            consumers[tag] = record
        }
        consumersWithPending.removeAll(keepingCapacity: true)
    }

    private func confirm(upTo tag: UInt64, multiple: Bool, nackReason: AMQPError?) {
        let first = multiple ? lowestUnconfirmed : tag
        guard first <= tag else { return }
        for sequence in first...tag {
            guard let publish = unconfirmed.removeValue(forKey: sequence) else { continue }
            if let nackReason {
                publish.completion.complete(.failure(nackReason))
            } else if let returned = publish.returned {
                publish.completion.complete(.failure(returned))
            } else {
                publish.completion.complete(.success(()))
            }
        }
        while lowestUnconfirmed < nextPublishSequence, unconfirmed[lowestUnconfirmed] == nil { lowestUnconfirmed += 1 }
    }

    /// basic.return names no sequence number; it precedes the confirm of the same message, so it belongs to the
    /// oldest unconfirmed mandatory publish with the same exchange, routing key and body.
    private func markReturned(exchange: String, routingKey: String, body: [UInt8], replyCode: UInt16,
                              replyText: String) {
        var sequence = lowestUnconfirmed
        while sequence < nextPublishSequence {
            if var publish = unconfirmed[sequence], publish.mandatory, publish.returned == nil,
                publish.exchange == exchange, publish.routingKey == routingKey, publish.body == body
            {
                publish.returned = AMQPError(
                    .unroutable, "no queue is bound for this routing key (basic.return)", replyCode: replyCode,
                    replyText: replyText, host: configuration.endpoint,
                    operation: "basic.publish(\(exchange) '\(routingKey)')")
                unconfirmed[sequence] = publish
                return
            }
            sequence += 1
        }
    }

    private func failUnconfirmed(_ error: AMQPError) {
        let pending = unconfirmed
        unconfirmed.removeAll()
        for sequence in pending.keys.sorted() { pending[sequence]?.completion.complete(.failure(error)) }
        lowestUnconfirmed = nextPublishSequence
    }

    /// The consuming channel was closed by the broker (e.g. 406 for an unknown delivery tag, 404 for a missing
    /// queue): its unacked deliveries went back to their queues, so settlements for them must not be sent.
    private func reopenConsumeChannel(after error: AMQPError) {
        guard let handle else { return }
        epoch += 1
        do {
            if error.code == .channelClosed, error.operation != nil {
                handle.sendChannelCloseOk(LibRabbitMQHandle.consumeChannel)
            }
            try handle.openChannel(LibRabbitMQHandle.consumeChannel, confirm: false)
            try resubscribe(on: handle)
        } catch {
            connectionLost(error)
        }
    }

    private func resubscribe(on handle: LibRabbitMQHandle) throws(AMQPError) {
        for tag in consumerOrder {
            guard let record = consumers[tag] else { continue }
            do {
                try handle.qos(prefetch: record.prefetch)
                try handle.consume(queue: record.queue, consumerTag: record.tag, arguments: record.arguments)
            } catch {
                guard error.code == .channelClosed else { throw error }
                // The queue is gone: this consumer ends; the others continue on a fresh channel.
                consumers.removeValue(forKey: tag)
                consumerOrder.removeAll { $0 == tag }
                record.continuation.finish(throwing: error)
                eventSink.yield(.consumerCancelled(consumerTag: tag, queue: record.queue))
                handle.sendChannelCloseOk(LibRabbitMQHandle.consumeChannel)
                try handle.openChannel(LibRabbitMQHandle.consumeChannel, confirm: false)
                try resubscribe(on: handle)
                return
            }
        }
    }

    // MARK: Recovery

    private func connectionLost(_ error: AMQPError) {
        guard let lost = handle else { return }
        flushDeliveries()
        lost.close(graceful: false)
        handle = nil
        epoch += 1
        blocked = false
        failUnconfirmed(AMQPError(
            .connectionClosed, "the connection dropped before the broker confirmed this message; it was not "
                + "re-sent: publish it again", host: configuration.endpoint, operation: "basic.publish",
            underlying: error))
        nextPublishSequence = 1
        lowestUnconfirmed = 1
        logger.warning("AMQP connection lost; reconnecting", metadata: ["error": "\(error)"])
        eventSink.yield(.disconnected(error))
    }

    /// Reconnects with backoff and full jitter, re-declares the recorded topology and resubscribes consumers.
    /// Returns `false` when closing was requested or the policy gave up.
    private func reconnect() -> Bool {
        var attempt = 0
        while true {
            let delay = configuration.reconnect.delay(forAttempt: attempt, randomFraction: Double.random(in: 0..<1))
            let deadline = ContinuousClock.now + delay
            repeat {
                serveCommands()  // settlements fail as stale; close is noticed
                expireOverduePublishes()  // publishes waiting for the reconnect fail at their deadline
                if closing { return false }
                let remaining = deadline - ContinuousClock.now
                guard remaining > .zero else { break }
                let (s, a) = remaining.components
                waitForSocketOrCommand(socket: -1, milliseconds: Int32(max(1, s * 1000 + a / 1_000_000_000_000_000)))
            } while ContinuousClock.now < deadline
            attempt += 1
            do throws(AMQPError) {
                let fresh = try LibRabbitMQHandle.open(configuration)
                do {
                    for exchange in exchanges { try fresh.declareExchange(exchange) }
                    for queue in queues { _ = try fresh.declareQueue(queue) }
                    for binding in bindings { try fresh.bind(binding) }
                    handle = fresh
                    try resubscribe(on: fresh)
                } catch {
                    handle = nil
                    fresh.close(graceful: false)
                    throw error
                }
                logger.info("AMQP connection recovered", metadata: ["amqp.attempts": "\(attempt)"])
                eventSink.yield(.reconnected(attempts: attempt))
                return true
            } catch {
                logger.info("AMQP reconnect attempt failed",
                            metadata: ["amqp.attempt": "\(attempt)", "error": "\(error)"])
                if let maximum = configuration.reconnect.maximumAttempts, attempt >= maximum {
                    eventSink.yield(.failed(error))
                    giveUp(error)
                    return false
                }
            }
        }
    }

    private func giveUp(_ error: AMQPError) {
        flushDeliveries()
        finishConsumersAndCommands(consumerError: error, commandError: error)
    }

    /// Ends every consumer's sequence (with `consumerError`, or normally when `nil`) and fails every command not
    /// yet run; the mailbox accepts nothing afterwards.
    private func finishConsumersAndCommands(consumerError: AMQPError?, commandError: AMQPError) {
        for tag in consumerOrder {
            if let consumerError {
                consumers[tag]?.continuation.finish(throwing: consumerError)
            } else {
                consumers[tag]?.continuation.finish()
            }
        }
        consumers.removeAll()
        consumerOrder.removeAll()
        let leftovers = backlog + mailbox.withLock { box -> [Command] in
            box.finished = true
            defer { box.commands.removeAll() }
            return box.commands
        }
        backlog.removeAll()
        for command in leftovers { command.fail(commandError) }
    }

    // MARK: Close

    /// Graceful close: cancel consumers, wait (bounded by `operationTimeout`) for outstanding publisher confirms,
    /// then close the channels and the connection.
    private func shutDown() {
        flushDeliveries()
        if let handle {
            for tag in consumerOrder { try? handle.cancel(consumerTag: tag) }
            let deadline = ContinuousClock.now + configuration.operationTimeout
            while !unconfirmed.isEmpty, ContinuousClock.now < deadline, self.handle != nil {
                do {
                    waitForSocketOrCommand(socket: handle.socketFD)
                    while let frame = try handle.nextFrame() { try dispatch(frame, handle) }
                } catch {
                    connectionLost(error)
                }
            }
            self.handle?.close(graceful: true)
            self.handle = nil
        }
        failUnconfirmed(AMQPError(.alreadyClosed, "the connection was closed before the broker confirmed",
                                  host: configuration.endpoint, operation: "basic.publish"))
        finishConsumersAndCommands(
            consumerError: nil, commandError: AMQPError(.alreadyClosed, "the connection is closed",
                                                        host: configuration.endpoint))
        eventSink.finish()
        logger.debug("AMQP connection closed")
        for request in closeRequests { request?.resume() }
        closeRequests.removeAll()
    }
}
