import CRabbitMQShims
import Foundation
import Logging
import Synchronization

/// The caller-facing side of a connection: the mailbox through which async callers hand commands to the
/// connection's I/O thread (``AMQPIOThread``), and the eventfd that wakes it.
///
/// Everything here is safe to share: the queued commands sit behind a `Mutex`, the consuming channel's
/// incarnation is an `Atomic`, `wakeFD` is immutable (`write(2)` is thread-safe), and the rest is immutable.
/// The I/O thread's own state lives in ``AMQPIOThread``, which never leaves its thread.
final class AMQPMailbox: Sendable {
    let configuration: AMQPConfiguration
    let logger: Logger
    /// `host:port` of each of the configuration's nodes.
    let endpoints: [String]
    let events: AsyncStream<AMQPConnectionEvent>
    let eventSink: AsyncStream<AMQPConnectionEvent>.Continuation

    private struct Queued {
        var commands: [AMQPCommand] = []
        var sleeping = false
        var finished = false
    }
    private let queued = Mutex(Queued())
    private let wakeFD: Int32
    /// The consuming channel's incarnation as the I/O thread last published it, so a stale settlement fails at
    /// once without a trip to the I/O thread.
    private let currentEpoch = Atomic<UInt64>(0)
    /// The node the connection is on, or was last on while it reconnects (an index into ``endpoints``).
    private let currentNode = Atomic<Int>(0)

    init(configuration: AMQPConfiguration, logger: Logger) {
        self.configuration = configuration
        endpoints = configuration.nodes.map(\.endpoint)
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

    // MARK: Callers (any thread)

    /// `host:port` of the node the connection is on (while reconnecting: the node it was last on).
    var currentEndpoint: String { endpoints[currentNode.load(ordering: .acquiring)] }

    /// Queues `command` for the I/O thread and wakes it if it sleeps. After the connection closed, fails the
    /// command at once and returns `false`.
    @discardableResult
    func enqueue(_ command: AMQPCommand) -> Bool {
        let (wake, rejected) = queued.withLock { box -> (Bool, Bool) in
            if box.finished { return (false, true) }
            box.commands.append(command)
            if box.sleeping {
                box.sleeping = false
                return (true, false)
            }
            return (false, false)
        }
        if rejected {
            command.fail(AMQPError(.alreadyClosed, "the connection is closed", host: currentEndpoint))
            return false
        }
        if wake { crmq_wake_fd_signal(wakeFD) }
        return true
    }

    /// Queues an ack/nack/reject for the I/O thread without waiting for it: a settlement needs no reply, and
    /// not waiting saves a thread hop per message. Fails at once when the delivery is already stale or the
    /// connection is closed; one that turns stale while queued is dropped by the I/O thread (the broker
    /// redelivers the message either way).
    func settle(_ delivery: AMQPDelivery, _ settlement: LibRabbitMQHandle.Settlement) throws(AMQPError) {
        guard delivery.epoch == currentEpoch.load(ordering: .acquiring) else {
            throw AMQPError(.staleDelivery, "delivery \(delivery.deliveryTag) came from a connection or channel "
                                + "that is gone; not sent (the broker redelivers it)", host: currentEndpoint,
                            operation: "basic.\(settlement)")
        }
        guard enqueue(.settle(epoch: delivery.epoch, tag: delivery.deliveryTag, settlement)) else {
            throw AMQPError(.alreadyClosed, "the connection is closed", host: currentEndpoint,
                            operation: "basic.\(settlement)")
        }
    }

    func cancelConsumer(tag: String) async {
        await withCheckedContinuation { continuation in
            enqueue(.cancel(tag, continuation))
        }
    }

    // MARK: The I/O thread

    /// Takes every queued command, in arrival order, by swapping the queue with `spare` (which must be empty; the
    /// queue keeps its capacity for the next commands).
    func takeCommands(swappingWith spare: inout [AMQPCommand]) {
        assert(spare.isEmpty, "commands would be lost")
        queued.withLock { box in swap(&box.commands, &spare) }
    }

    /// Sleeps in `poll(2)` until `socket` is readable (`-1`: no socket), a command arrives, or `milliseconds`
    /// pass. Returns at once when commands are already queued.
    func sleep(socket: Int32, milliseconds: Int32) {
        let sleep = queued.withLock { box -> Bool in
            guard box.commands.isEmpty else { return false }
            box.sleeping = true
            return true
        }
        guard sleep else { return }
        let ready = crmq_poll_socket_and_wake(socket, wakeFD, milliseconds)
        queued.withLock { $0.sleeping = false }
        // Drained only when it fired: a wake-up signalled after poll returned is drained by the next sleep, whose
        // poll then returns at once.
        if ready < 0 || ready & 2 != 0 { crmq_wake_fd_drain(wakeFD) }
    }

    /// Accepts no more commands and returns those still queued.
    func closeForGood() -> [AMQPCommand] {
        queued.withLock { box in
            box.finished = true
            defer { box.commands.removeAll() }
            return box.commands
        }
    }

    /// Publishes the node the connection is now on, before the (re)connect is announced.
    func publishNode(_ index: Int) {
        currentNode.store(index, ordering: .releasing)
    }

    /// Publishes the consuming channel's incarnation for ``settle(_:_:)``.
    func publishEpoch(_ epoch: UInt64) {
        currentEpoch.store(epoch, ordering: .releasing)
    }
}
