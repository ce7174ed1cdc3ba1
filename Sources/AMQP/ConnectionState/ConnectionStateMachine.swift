/// The life of one AMQP connection — open, blocked, reconnecting, closing, closed — the consuming channel's
/// incarnation and the broker node it is on (``NodeRotation``), as a plain value.
///
/// One mutating method per event; each returns the ``Action``s the I/O thread carries out, in order. Nothing here
/// touches a socket, a thread or a clock, so every transition is unit-tested without a broker
/// (`ConnectionStateMachineTests`). The I/O thread owns the value (it is never shared), so there is no lock:
/// it decides here, then acts.
struct ConnectionStateMachine: Equatable, Sendable {
    enum State: Equatable, Sendable {
        /// Connected: the normal state.
        case open
        /// The connection dropped; `failedAttempts` reconnects have failed since.
        case reconnecting(failedAttempts: Int)
        /// `close()` was asked for; the loop finishes its pass, then shuts down. `connected`: a socket to close.
        case closing(connected: Bool)
        /// Closed, or reconnecting was given up: nothing more is served.
        case closed
    }

    /// Which channel the broker closed.
    enum Channel: Equatable, Sendable {
        /// The confirm-mode channel publishes go out on.
        case publishing
        /// The channel the consumers receive deliveries on.
        case consuming
        /// Any other (topology calls run on the publishing channel today; kept for completeness).
        case other
    }

    /// Things that happen to the connection that its users observe (``AMQPConnectionEvent``).
    enum Announcement: Equatable, Sendable {
        case disconnected
        case reconnected(attempts: Int)
        case blocked(reason: String)
        case unblocked
        case gaveUp
    }

    enum Action: Equatable, Sendable {
        /// Hand every consumer's buffered deliveries over before anything that could overtake them.
        case handOverDeliveries
        /// Close the socket at once, without the AMQP close handshake (it is already broken).
        case dropSocket
        /// End every publish waiting for a confirm with this outcome.
        case failUnconfirmedPublishes(PublishEnd)
        case announce(Announcement)
        /// Wait the reconnect policy's delay for this attempt (serving commands meanwhile), then try to reconnect.
        case waitThenReconnect(attempt: Int)
        /// Open the publishing channel again, in confirm mode (sequence numbers restart at 1).
        case reopenPublishChannel
        /// Close the publishing channel (no publish waits for a confirm on it) and open a fresh one in confirm mode.
        case recyclePublishChannel
        /// Open the consuming channel again and resubscribe every consumer, with its prefetch.
        case reopenConsumeChannelAndResubscribe
        case reopenChannel(UInt16)
        /// Forget this consumer and end its sequence with the error at hand; announce it.
        case endConsumer(tag: String)
        /// Send `basic.cancel` for every consumer.
        case cancelConsumers
        /// Read frames until no publish waits for a confirm (bounded by the operation timeout).
        case awaitOutstandingConfirms
        /// Close channels and connection with the AMQP handshake.
        case closeSocket
        /// End every consumer's sequence: with the reconnect's last error when `failed`, normally otherwise.
        case finishConsumers(failed: Bool)
        /// Fail every command not yet run (with the reconnect's last error when `failed`); accept no more.
        case failWaitingCommands(failed: Bool)
        /// End the events stream.
        case finishEvents
        /// Resume everyone waiting in `close()`.
        case resumeCloseWaiters
    }

    private(set) var state: State = .open
    /// The broker sent `connection.blocked` and no `connection.unblocked` yet: publishes wait.
    private(set) var isBlocked = false
    /// Incarnation of the consuming channel: deliveries carry it, and settlements of older ones are never sent.
    private(set) var epoch: UInt64 = 0
    /// Give up after this many failed reconnects in a row; `nil`: never.
    let maximumReconnectAttempts: Int?
    /// The broker nacked a publish on the current publishing channel: a fresh channel is opened once no publish
    /// waits for a confirm on it (``publishNacked(unsettled:)``).
    private(set) var publishChannelSuspect = false
    /// The node the connection is on (open) or tries next (reconnecting): a lost connection and each failed
    /// reconnect move on to the next node, so `.waitThenReconnect` goes to ``NodeRotation/current``.
    private(set) var nodes: NodeRotation

    /// A machine for a connection whose first open just succeeded, on `nodes.current`.
    init(maximumReconnectAttempts: Int?, nodes: NodeRotation = .single) {
        self.maximumReconnectAttempts = maximumReconnectAttempts
        self.nodes = nodes
    }

    /// A socket is there to talk to the broker on.
    var isConnected: Bool {
        switch state {
        case .open, .closing(connected: true): true
        default: false
        }
    }

    var isClosing: Bool {
        switch state {
        case .closing, .closed: true
        default: false
        }
    }

    // MARK: Admission (no state changes)

    /// Whether a topology call or a `basic.consume` can run now; otherwise it waits for a reconnect.
    var canRunRPC: Bool { isConnected }

    /// Whether a publish can be sent now; otherwise it waits (disconnected, or blocked by the broker).
    var canPublish: Bool { isConnected && !isBlocked }

    /// Whether an ack/nack/reject of a delivery from consuming-channel incarnation `deliveryEpoch` is sent; a stale
    /// one is dropped (the broker redelivers the message either way).
    func shouldSendSettlement(ofEpoch deliveryEpoch: UInt64) -> Bool {
        isConnected && deliveryEpoch == epoch
    }

    // MARK: Events

    /// The socket failed or the broker closed the connection.
    mutating func connectionLost() -> [Action] {
        let lost: [Action] = [.handOverDeliveries, .dropSocket, .failUnconfirmedPublishes(.connectionLost),
                              .announce(.disconnected)]
        switch state {
        case .open:
            state = .reconnecting(failedAttempts: 0)
            epoch += 1
            isBlocked = false
            publishChannelSuspect = false
            nodes.moveOn()  // the node just lost may be down: try the next one first (one node: the same)
            return lost + [.waitThenReconnect(attempt: 0)]
        case .closing(connected: true):
            state = .closing(connected: false)
            epoch += 1
            isBlocked = false
            return lost
        case .reconnecting, .closing(connected: false), .closed:
            return []
        }
    }

    /// A reconnect opened a socket (on ``nodes``' current node), declared the recorded topology again and
    /// resubscribed the consumers.
    mutating func reconnectSucceeded() -> [Action] {
        guard case .reconnecting(let failed) = state else { return [] }
        state = .open
        return [.announce(.reconnected(attempts: failed + 1))]
    }

    /// A reconnect attempt failed: wait and try again, or give up once the policy's attempts are spent.
    mutating func reconnectFailed() -> [Action] {
        guard case .reconnecting(let failed) = state else { return [] }
        let attempts = failed + 1
        if let maximum = maximumReconnectAttempts, attempts >= maximum {
            state = .closed
            return [.handOverDeliveries, .announce(.gaveUp), .finishConsumers(failed: true),
                    .failWaitingCommands(failed: true)]
        }
        state = .reconnecting(failedAttempts: attempts)
        nodes.moveOn()
        return [.waitThenReconnect(attempt: attempts)]
    }

    /// `close()` was called: the loop finishes the commands of its current pass, then shuts down
    /// (``stoppedServing()``).
    mutating func closeRequested() -> [Action] {
        switch state {
        case .open: state = .closing(connected: true)
        case .reconnecting: state = .closing(connected: false)
        case .closing, .closed: break
        }
        return []
    }

    /// The loop stopped serving (closing, or gave up): how to shut down.
    mutating func stoppedServing() -> [Action] {
        let socket: [Action] = isConnected ? [.cancelConsumers, .awaitOutstandingConfirms, .closeSocket] : []
        state = .closed
        return [.handOverDeliveries] + socket + [.failUnconfirmedPublishes(.closed), .finishConsumers(failed: false),
                                                 .failWaitingCommands(failed: false), .finishEvents,
                                                 .resumeCloseWaiters]
    }

    /// The broker closed a channel (`channel.close`), e.g. 404 on a passive declare or 406 for an unknown
    /// delivery tag: open it again. On the consuming channel the unacked deliveries went back to their queues,
    /// so the channel's incarnation changes and their settlements are never sent.
    mutating func channelClosed(_ channel: Channel, number: UInt16, replyCode: UInt16,
                                replyText: String) -> [Action] {
        guard isConnected else { return [] }
        switch channel {
        case .publishing:
            publishChannelSuspect = false
            return [.failUnconfirmedPublishes(.channelClosed(channel: number, replyCode: replyCode,
                                                             replyText: replyText)),
                    .reopenPublishChannel]
        case .consuming:
            epoch += 1
            return [.handOverDeliveries, .reopenConsumeChannelAndResubscribe]
        case .other:
            return [.reopenChannel(number)]
        }
    }

    /// The broker nacked one or more publishes; `unsettled` publishes still wait for their confirm on the channel.
    ///
    /// A nack is the broker refusing a message, and a retry on the same channel can meet the same refusal for a
    /// reason that belongs to the channel: RabbitMQ 3.10 keeps, per channel, the leader it believes each quorum
    /// queue has, and a channel opened while a queue elects a new leader (its node was killed) can keep nacking
    /// every publish to that queue until the dead node returns. So once nothing more waits for a confirm on it
    /// (a late ack of the old channel must never settle a publish of the new one), the channel is replaced.
    mutating func publishNacked(unsettled: Int) -> [Action] {
        guard isConnected else { return [] }
        publishChannelSuspect = true
        return publishesSettled(unsettled: unsettled)
    }

    /// Publishes were settled (acked, or their deadline passed); `unsettled` still wait. Replaces a channel that
    /// nacked once it has no publish in flight.
    mutating func publishesSettled(unsettled: Int) -> [Action] {
        guard publishChannelSuspect, unsettled == 0, isConnected else { return [] }
        publishChannelSuspect = false
        return [.recyclePublishChannel]
    }

    /// The broker cancelled a consumer (`basic.cancel`: its queue was deleted, or its node failed).
    mutating func brokerCancelledConsumer(tag: String) -> [Action] {
        [.handOverDeliveries, .endConsumer(tag: tag)]
    }

    /// Resubscribing a consumer failed because the broker closed the consuming channel (its queue is gone): that
    /// consumer ends, and the others are subscribed again on a fresh channel, a new incarnation.
    mutating func resubscribeFailed(tag: String) -> [Action] {
        epoch += 1
        return [.endConsumer(tag: tag), .reopenConsumeChannelAndResubscribe]
    }

    /// `connection.blocked`: publishes wait until `connection.unblocked`.
    mutating func brokerBlocked(reason: String) -> [Action] {
        guard isConnected else { return [] }
        isBlocked = true
        return [.announce(.blocked(reason: reason))]
    }

    /// `connection.unblocked`.
    mutating func brokerUnblocked() -> [Action] {
        guard isConnected else { return [] }
        isBlocked = false
        return [.announce(.unblocked)]
    }
}
