import Foundation

/// Carrying out the state machine's actions on the I/O thread: recovery, resubscription and shutdown.
extension AMQPIOThread {
    /// Carries out `actions` in order; a failure to reopen a channel is a lost connection.
    /// - Parameter error: what caused the event, for the actions that report it (`nil` when nothing failed).
    func perform(_ actions: [ConnectionStateMachine.Action], error: AMQPError?) {
        do {
            try carryOut(actions, error: error)
        } catch {
            connectionLost(error)
        }
    }

    /// The socket failed or the broker closed the connection.
    func connectionLost(_ error: AMQPError) {
        perform(machine.connectionLost(), error: error)
    }

    /// Carries out `actions` in order; throws when reopening a channel or resubscribing fails.
    func carryOut(_ actions: [ConnectionStateMachine.Action], error: AMQPError?) throws(AMQPError) {
        for action in actions {
            switch action {
            case .handOverDeliveries:
                handOverDeliveries()
            case .dropSocket:
                handle?.close(graceful: false)
                handle = nil
            case .failUnconfirmedPublishes(let end):
                complete(ledger.channelEnded(end), underlying: end == .connectionLost ? error : nil)
            case .announce(let announcement):
                announce(announcement, error: error)
            case .waitThenReconnect(let attempt):
                scheduledReconnect = attempt
            case .reopenPublishChannel:
                try handle?.openChannel(LibRabbitMQHandle.publishChannel, confirm: true)
            case .recyclePublishChannel:
                guard let handle else { continue }
                complete(ledger.channelEnded(.closed))  // empty: nothing waits; sequence numbers restart at 1
                try handle.closeChannel(LibRabbitMQHandle.publishChannel)
                try handle.openChannel(LibRabbitMQHandle.publishChannel, confirm: true)
                logger.info("opened a fresh publishing channel after a nack")
            case .reopenConsumeChannelAndResubscribe:
                guard let handle else { continue }
                if let error, error.code == .channelClosed, error.operation != nil {
                    // The channel closed as the reply to one of our calls: librabbitmq did not answer close-ok.
                    handle.sendChannelCloseOk(LibRabbitMQHandle.consumeChannel)
                }
                try handle.openChannel(LibRabbitMQHandle.consumeChannel, confirm: false)
                try resubscribe(on: handle)
            case .reopenChannel(let number):
                try handle?.openChannel(number, confirm: false)
            case .endConsumer(let tag):
                guard let consumer = consumers.removed(tag: tag) else { continue }
                let queue = consumer.subscription.queue
                var reason = error ?? AMQPError(.consumerCancelled, "the consumer ended", host: endpoint)
                if reason.code == .consumerCancelled { reason.operation = "basic.consume(\(queue))" }
                logger.info("broker cancelled consumer", metadata: [AMQPLoggingKeys.consumerTag: "\(tag)",
                                                                    AMQPLoggingKeys.queue: "\(queue)"])
                consumer.sink.finish(throwing: reason)
                mailbox.eventSink.yield(.consumerCancelled(consumerTag: tag, queue: queue))
            case .cancelConsumers:
                for subscription in consumers.subscriptions { try? handle?.cancel(consumerTag: subscription.tag) }
            case .awaitOutstandingConfirms:
                awaitOutstandingConfirms()
            case .closeSocket:
                handle?.close(graceful: true)
                handle = nil
            case .finishConsumers(let failed):
                for consumer in consumers.removeAll() {
                    if failed, let error {
                        consumer.sink.finish(throwing: error)
                    } else {
                        consumer.sink.finish()
                    }
                }
            case .failWaitingCommands(let failed):
                let waiting = deferred + mailbox.closeForGood()
                deferred.removeAll()
                deferredEarliestDeadline = nil
                let reason = failed ? error : nil
                for command in waiting {
                    command.fail(reason ?? AMQPError(.alreadyClosed, "the connection is closed",
                                                     host: endpoint))
                }
            case .finishEvents:
                mailbox.eventSink.finish()
                logger.debug("AMQP connection closed")
            case .resumeCloseWaiters:
                for waiter in closeWaiters { waiter.resume() }
                closeWaiters.removeAll()
            }
        }
    }

    private func announce(_ announcement: ConnectionStateMachine.Announcement, error: AMQPError?) {
        let unknown = AMQPError(.connectionClosed, "the connection ended", host: endpoint)
        switch announcement {
        case .disconnected:
            logger.warning("AMQP connection lost; reconnecting", metadata: ["error": "\(error ?? unknown)"])
            mailbox.eventSink.yield(.disconnected(error ?? unknown))
        case .reconnected(let attempts):
            logger.info("AMQP connection recovered", metadata: ["amqp.attempts": "\(attempts)"])
            mailbox.eventSink.yield(.reconnected(attempts: attempts))
        case .blocked(let reason):
            logger.warning("broker blocked publishing", metadata: ["amqp.reason": "\(reason)"])
            mailbox.eventSink.yield(.blocked(reason: reason))
        case .unblocked:
            logger.info("broker unblocked publishing")
            mailbox.eventSink.yield(.unblocked)
        case .gaveUp:
            mailbox.eventSink.yield(.failed(error ?? unknown))
        }
    }

    /// Subscribes every consumer again on the consuming channel, in order. A consumer whose queue is gone ends
    /// (``ConnectionStateMachine/resubscribeFailed(tag:)``); the others continue on a fresh channel.
    func resubscribe(on handle: LibRabbitMQHandle) throws(AMQPError) {
        for subscription in consumers.subscriptions {
            do {
                try handle.qos(prefetch: subscription.prefetch)
                try handle.consume(queue: subscription.queue, consumerTag: subscription.tag,
                                   arguments: subscription.arguments)
            } catch {
                guard error.code == .channelClosed else { throw error }
                try carryOut(machine.resubscribeFailed(tag: subscription.tag), error: error)
                return
            }
        }
    }

    /// Reconnects with backoff and full jitter, each attempt to the state machine's next node (``NodeRotation``),
    /// re-declares the recorded topology and resubscribes consumers, serving commands while it waits. Returns when
    /// connected again, closing, or given up.
    func reconnect(startingWith firstAttempt: Int) {
        var attempt = firstAttempt
        while true {
            let delay = configuration.reconnect.delay(forAttempt: attempt, randomFraction: Double.random(in: 0..<1))
            let deadline = ContinuousClock.now + delay
            repeat {
                serveCommands()  // settlements fail as stale; close is noticed
                expireOverduePublishes()  // publishes waiting for the reconnect fail at their deadline
                if machine.isClosing { return }
                let remaining = deadline - ContinuousClock.now
                guard remaining > .zero else { break }
                mailbox.sleep(socket: -1, milliseconds: Self.milliseconds(remaining))
            } while ContinuousClock.now < deadline
            let node = machine.nodes.current
            do throws(AMQPError) {
                let fresh = try LibRabbitMQHandle.open(configuration.on(node: node))
                do {
                    for declaration in topology.redeclarations {
                        switch declaration {
                        case .exchange(let exchange): try fresh.declareExchange(exchange)
                        case .queue(let queue): _ = try fresh.declareQueue(queue)
                        case .binding(let binding): try fresh.bind(binding)
                        }
                    }
                    handle = fresh
                    onNode(node)  // before the reconnect is announced: observers then read the new node
                    try resubscribe(on: fresh)
                } catch {
                    handle = nil
                    fresh.close(graceful: false)
                    throw error
                }
                perform(machine.reconnectSucceeded(), error: nil)
                return
            } catch {
                logger.info("AMQP reconnect attempt failed",
                            metadata: ["amqp.attempt": "\(attempt + 1)", "error": "\(error)",
                                       AMQPLoggingKeys.endpoint: "\(mailbox.endpoints[node])"])
                perform(machine.reconnectFailed(), error: error)
                guard let next = scheduledReconnect else { return }
                scheduledReconnect = nil
                attempt = next
            }
        }
    }

    /// Graceful close: wait (bounded by `operationTimeout`) for outstanding publisher confirms.
    private func awaitOutstandingConfirms() {
        let deadline = ContinuousClock.now + configuration.operationTimeout
        while !ledger.isEmpty, ContinuousClock.now < deadline, let handle {
            do {
                mailbox.sleep(socket: handle.socketFD, milliseconds: maximumSleep)
                while let frame = try handle.nextFrame() { try dispatch(frame, handle) }
            } catch {
                connectionLost(error)
            }
        }
    }
}
