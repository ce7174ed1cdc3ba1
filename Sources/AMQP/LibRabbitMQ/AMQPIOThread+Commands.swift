/// Carrying out callers' commands on the I/O thread.
extension AMQPIOThread {
    /// Runs one command; returns `false` when it must wait (disconnected, or a publish while blocked).
    func execute(_ command: AMQPCommand) -> Bool {
        switch command {
        case .close(let continuation):
            if let continuation { closeWaiters.append(continuation) }
            perform(machine.closeRequested(), error: nil)
            return true
        case .settle(let deliveryEpoch, let tag, let settlement):
            guard let handle, machine.shouldSendSettlement(ofEpoch: deliveryEpoch) else {
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
            handOverDeliveries()
            if let consumer = consumers.removed(tag: tag) {
                if let handle {
                    do { try handle.cancel(consumerTag: tag) } catch { connectionLost(error) }
                }
                consumer.sink.finish()
            }
            continuation?.resume()
            return true
        case .topology(let operation, let continuation):
            guard let handle, machine.canRunRPC else { return false }
            do {
                let result = try runTopology(operation, on: handle)
                topology.succeeded(operation)
                continuation.resume(returning: result)
            } catch {
                continuation.resume(throwing: error)
                if error.code != .channelClosed { connectionLost(error) }
            }
            return true
        case .publish(let request):
            guard let handle, machine.canPublish else { return false }
            do {
                try send(request.exchange, request.routingKey, request.mandatory, request.properties, request.body,
                         deadline: request.deadline, waiter: .single(request.continuation), on: handle)
            } catch {
                request.continuation.resume(throwing: error)
                // A message that cannot be encoded was never sent: the connection is fine.
                if !error.leftConnectionIntact { connectionLost(error) }
            }
            return true
        case .publishBatch(let messages, let deadline, let continuation):
            guard let handle, machine.canPublish else { return false }
            let batch = PublishBatch(count: messages.count, continuation: continuation)
            for (index, message) in messages.enumerated() {
                guard self.handle != nil else {
                    batch.complete(index, .failure(AMQPError(
                        .connectionClosed, "the connection dropped before this message was sent; publish it again",
                        host: endpoint, operation: "basic.publish")))
                    continue
                }
                do {
                    try send(message.exchange, message.routingKey, message.mandatory, message.properties,
                             message.body, deadline: deadline, waiter: .batch(batch, index), on: handle)
                } catch {
                    batch.complete(index, .failure(error))
                    if !error.leftConnectionIntact { connectionLost(error) }
                }
            }
            return true
        case .consume(let subscription, let sink, let started):
            guard let handle, machine.canRunRPC else { return false }
            do {
                try handle.qos(prefetch: subscription.prefetch)
                try handle.consume(queue: subscription.queue, consumerTag: subscription.tag,
                                   arguments: subscription.arguments)
                consumers.subscribed(subscription, sink: sink)
                started.resume()
            } catch {
                sink.finish(throwing: error)
                started.resume(throwing: error)
                if error.code == .channelClosed {
                    perform(machine.channelClosed(.consuming, number: LibRabbitMQHandle.consumeChannel,
                                                  replyCode: error.replyCode ?? 0, replyText: error.replyText ?? ""),
                            error: error)
                } else {
                    connectionLost(error)
                }
            }
            return true
        }
    }

    /// Sends one message and records it in the ledger until its confirm. Throws before sending anything when the
    /// message cannot be encoded (``AMQPError/leftConnectionIntact``).
    private func send(_ exchange: String, _ routingKey: String, _ mandatory: Bool, _ properties: AMQPProperties,
                      _ body: [UInt8], deadline: ContinuousClock.Instant?, waiter: PublishWaiter,
                      on handle: LibRabbitMQHandle) throws(AMQPError) {
        try handle.publish(exchange: exchange, routingKey: routingKey, mandatory: mandatory, properties: properties,
                           body: body)
        ledger.sent(exchange: exchange, routingKey: routingKey, mandatory: mandatory, body: body, deadline: deadline,
                    waiter: waiter)
    }

    private func runTopology(_ operation: TopologyOperation, on handle: LibRabbitMQHandle) throws(AMQPError)
        -> AMQPQueueState?
    {
        switch operation {
        case .declareExchange(let exchange):
            try handle.declareExchange(exchange)
            return nil
        case .deleteExchange(let name):
            try handle.deleteExchange(name)
            return nil
        case .declareQueue(let queue):
            return try handle.declareQueue(queue)
        case .deleteQueue(let name):
            let count = try handle.deleteQueue(name)
            return AMQPQueueState(name: name, messageCount: count, consumerCount: 0)
        case .purgeQueue(let name):
            let count = try handle.purgeQueue(name)
            return AMQPQueueState(name: name, messageCount: count, consumerCount: 0)
        case .bind(let binding):
            try handle.bind(binding)
            return nil
        }
    }
}

extension AMQPError {
    /// A publish refused before anything was sent (``Code/propertiesTooLarge``, or an exchange name or routing key
    /// over 255 bytes): the connection is as it was, so it is not torn down and reconnected for it.
    var leftConnectionIntact: Bool { code == .propertiesTooLarge || code == .invalidConfiguration }
}
