import CRabbitMQ
import Foundation
import Logging

/// The one thread that owns a connection's librabbitmq state.
///
/// Why a thread: librabbitmq is blocking and not thread-safe, and it services heartbeats only while a call into
/// it is running. The loop waits on the socket *and* the mailbox's eventfd with `poll(2)` for at most
/// `min(pollInterval, heartbeat/2)`, then always calls into librabbitmq once, so heartbeats flow whether the
/// application is busy or idle, and a command posted by a caller wakes the thread at once.
///
/// What to do is decided by plain values — ``ConnectionStateMachine`` (open, blocked, reconnecting, closing),
/// ``PublishConfirmLedger`` (publishes waiting for confirms), ``ConsumerRegistry`` (consumers and their buffered
/// deliveries), ``TopologyRecord`` (what to declare again after a reconnect) — and this class carries out their
/// actions. It is not `Sendable`: it is created on its thread (``AMQPConnection/connect(_:logger:)``) and never
/// leaves it; callers reach it only through ``AMQPMailbox``.
final class AMQPIOThread {
    let mailbox: AMQPMailbox
    var configuration: AMQPConfiguration { mailbox.configuration }
    /// The mailbox's logger, its `amqp.endpoint` the node the connection is on.
    var logger: Logger
    /// `host:port` of the node the connection is on (while reconnecting: the node it was last on), for errors.
    var endpoint: String { mailbox.currentEndpoint }

    var handle: LibRabbitMQHandle?
    var machine: ConnectionStateMachine {
        didSet { if machine.epoch != oldValue.epoch { mailbox.publishEpoch(machine.epoch) } }
    }
    var ledger = PublishConfirmLedger<PublishWaiter>()
    var consumers = ConsumerRegistry<AMQPCommand.DeliverySink, AMQPDelivery>()
    var topology = TopologyRecord()
    /// Consumer tags, exchanges and routing keys of recent deliveries, reused rather than allocated per delivery.
    var repeatedStrings = RepeatedStrings()
    /// Commands that cannot run yet (disconnected, or publishes while the broker blocks us), in arrival order.
    var deferred: [AMQPCommand] = []
    /// The commands taken from the mailbox, being served (empty between wake-ups, its capacity kept).
    var incoming: [AMQPCommand] = []
    /// No deferred publish has a deadline before this; `nil`: none has one.
    var deferredEarliestDeadline: ContinuousClock.Instant?
    var closeWaiters: [CheckedContinuation<Void, Never>] = []
    /// The reconnect attempt `.waitThenReconnect` scheduled; the run loop starts it at the top of its next turn.
    var scheduledReconnect: Int?

    /// - Parameter nodes: the order the configuration's nodes are tried in, drawn by the caller.
    init(mailbox: AMQPMailbox, nodes: NodeRotation) {
        self.mailbox = mailbox
        logger = mailbox.logger
        machine = ConnectionStateMachine(maximumReconnectAttempts: mailbox.configuration.reconnect.maximumAttempts,
                                         nodes: nodes)
    }

    /// Runs on the new thread: opens the connection, trying each node once in order, reports the outcome to
    /// `connected` (a wrong password or a closed port fails fast, without retries: with several nodes, once each
    /// has failed), then serves until closed.
    func start(_ connected: CheckedContinuation<Void, any Error>) {
        var nodes = machine.nodes
        var failures: [(endpoint: String, error: AMQPError)] = []
        while handle == nil {
            let node = nodes.current
            do throws(AMQPError) {
                handle = try LibRabbitMQHandle.open(configuration.on(node: node))
            } catch {
                failures.append((mailbox.endpoints[node], error))
                guard nodes.firstConnectFailed() != nil else {
                    _ = mailbox.closeForGood()
                    connected.resume(throwing: AMQPError.noNodeConnected(failures))
                    return
                }
                logger.warning("AMQP connect to a node failed; trying the next node",
                               metadata: [AMQPLoggingKeys.endpoint: "\(mailbox.endpoints[node])", "error": "\(error)"])
            }
        }
        machine = ConnectionStateMachine(maximumReconnectAttempts: configuration.reconnect.maximumAttempts,
                                         nodes: nodes)
        onNode(nodes.current)
        if mailbox.endpoints.count > 1 {
            logger.info("AMQP connection open", metadata: ["amqp.nodes": "\(mailbox.endpoints.count)"])
        } else {
            logger.debug("AMQP connection open")
        }
        connected.resume()
        run()
    }

    /// The connection is now on node `index`: callers, errors and log lines name it from here on.
    func onNode(_ index: Int) {
        mailbox.publishNode(index)
        logger[metadataKey: AMQPLoggingKeys.endpoint] = "\(mailbox.endpoints[index])"
    }

    private func run() {
        while true {
            if let attempt = scheduledReconnect {
                scheduledReconnect = nil
                reconnect(startingWith: attempt)
            }
            serveCommands()
            expireOverduePublishes()
            if machine.isClosing { break }
            guard let handle else { continue }
            do {
                if !handle.hasBufferedFrames { mailbox.sleep(socket: handle.socketFD, milliseconds: maximumSleep) }
                var frames = 0
                while frames < 512, let frame = try handle.nextFrame() {
                    try dispatch(frame, handle)
                    frames += 1
                }
                handOverDeliveries()
                handle.releaseBuffersIfPossible()
            } catch {
                connectionLost(error)
            }
        }
        perform(machine.stoppedServing(), error: nil)
    }

    /// The longest the loop sleeps without calling into librabbitmq: heartbeats need a call every half interval.
    var maximumSleep: Int32 {
        var bound = configuration.pollInterval
        if configuration.heartbeat > .zero { bound = min(bound, configuration.heartbeat / 2) }
        return Self.milliseconds(bound)
    }

    static func milliseconds(_ duration: Duration) -> Int32 {
        let (seconds, attoseconds) = duration.components
        let milliseconds = seconds * 1000 + attoseconds / 1_000_000_000_000_000
        return Int32(clamping: max(1, milliseconds))
    }

    /// Runs every queued command (after those deferred earlier), in order.
    func serveCommands() {
        // The mailbox's array and ours trade places: neither is copied nor reallocated per wake-up.
        mailbox.takeCommands(swappingWith: &incoming)
        guard !incoming.isEmpty || !deferred.isEmpty else { return }
        var earlier: [AMQPCommand] = []
        swap(&earlier, &deferred)
        // Runs of publishes and acks are held and go out in one write; anything that waits for a reply is not held.
        defer {
            handle?.setHolding(false)
            incoming.removeAll(keepingCapacity: true)
        }
        var connectionDropped = false
        func serve(_ command: AMQPCommand) {
            // Once the connection dropped while serving, everything after waits for the reconnect.
            guard !connectionDropped else { return deferCommand(command) }
            handle?.setHolding(command.needsNoReply)
            if !execute(command) { deferCommand(command) }
            if handle == nil { connectionDropped = true }
        }
        for command in earlier { serve(command) }
        for command in incoming { serve(command) }
    }

    private func deferCommand(_ command: AMQPCommand) {
        deferred.append(command)
        if let deadline = command.publishDeadline, deferredEarliestDeadline.map({ deadline < $0 }) ?? true {
            deferredEarliestDeadline = deadline
        }
    }

    /// Fails publishes whose caller's deadline passed: those still waiting to be sent (disconnected, or blocked by
    /// the broker) are dropped unsent; those sent but unconfirmed stop being waited for (a late confirm is
    /// ignored; the broker may still deliver the message, so the error says so).
    func expireOverduePublishes() {
        // The common path, no publish with a deadline, reads no clock.
        guard deferredEarliestDeadline != nil || ledger.earliestDeadline != nil else { return }
        let now = ContinuousClock.now
        if let earliest = deferredEarliestDeadline, earliest <= now {
            var next: ContinuousClock.Instant?
            let unsent = PublishEnd.notSentInTime.result(host: endpoint)
            deferred.removeAll { command in
                guard let deadline = command.publishDeadline else { return false }
                guard deadline <= now else {
                    if next.map({ deadline < $0 }) ?? true { next = deadline }
                    return false
                }
                if case .failure(let error) = unsent { command.fail(error) }
                return true
            }
            deferredEarliestDeadline = next
        }
        let overdue = ledger.deadlinesPassed(now: now)
        if !overdue.isEmpty {
            complete(overdue)
            logger.warning("publishes not confirmed in time", metadata: ["amqp.count": "\(overdue.count)"])
            if machine.publishChannelSuspect { perform(machine.publishesSettled(unsettled: ledger.count), error: nil) }
        }
    }

    /// Hands publishes the ledger settled to their waiters.
    func complete(_ settled: [PublishConfirmLedger<PublishWaiter>.Settled], underlying: (any Error)? = nil) {
        for publish in settled {
            publish.waiter.complete(publish.end.result(host: endpoint, underlying: underlying))
        }
    }

    /// One hand-over per consumer per frame-loop pass: waking the consuming task once for a burst, not once per
    /// message, is what keeps the client close to a plain C loop.
    func handOverDeliveries() {
        for burst in consumers.takeBursts() { burst.sink.yield(burst.deliveries) }
    }
}
