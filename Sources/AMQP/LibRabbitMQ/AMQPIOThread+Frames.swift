import CRabbitMQ

/// Turning the frames the broker sends into events for the state machines, on the I/O thread.
extension AMQPIOThread {
    func dispatch(_ frame: amqp_frame_t, _ handle: LibRabbitMQHandle) throws(AMQPError) {
        guard frame.frame_type == UInt8(AMQP_FRAME_METHOD) else { return }
        let method = frame.payload.method
        switch method.id {
        case LibRabbitMQMethod.basicDeliver:
            let deliver = method.decoded.assumingMemoryBound(to: amqp_basic_deliver_t.self).pointee
            let tag = repeatedStrings.string(deliver.consumer_tag)
            let deliveryTag = deliver.delivery_tag
            let (properties, body) = try handle.readContent(channel: frame.channel)
            let delivery = AMQPDelivery(
                body: body, properties: properties, deliveryTag: deliveryTag, redelivered: deliver.redelivered != 0,
                exchange: repeatedStrings.string(deliver.exchange),
                routingKey: repeatedStrings.string(deliver.routing_key), consumerTag: tag, epoch: machine.epoch,
                mailbox: mailbox)
            switch consumers.delivered(delivery, to: tag) {
            case .buffered:
                return
            case .requeueForUnknownConsumer:
                // Delivered after we cancelled the consumer: hand it back to the queue.
                try handle.settle(deliveryTag: deliveryTag, type(of: consumers).requeueSettlement)
            }
        case LibRabbitMQMethod.basicAck:
            let ack = method.decoded.assumingMemoryBound(to: amqp_basic_ack_t.self).pointee
            complete(ledger.brokerAcked(upTo: ack.delivery_tag, multiple: ack.multiple != 0))
            if machine.publishChannelSuspect {
                try carryOut(machine.publishesSettled(unsettled: ledger.count), error: nil)
            }
        case LibRabbitMQMethod.basicNack:
            let nack = method.decoded.assumingMemoryBound(to: amqp_basic_nack_t.self).pointee
            let nacked = ledger.brokerNacked(upTo: nack.delivery_tag, multiple: nack.multiple != 0)
            complete(nacked)
            if !nacked.isEmpty, !machine.publishChannelSuspect {
                logger.warning("broker nacked publishes; replacing the publishing channel when none is in flight",
                               metadata: ["amqp.count": "\(nacked.count)"])
            }
            try carryOut(machine.publishNacked(unsettled: ledger.count), error: nil)
        case LibRabbitMQMethod.basicReturn:
            let ret = method.decoded.assumingMemoryBound(to: amqp_basic_return_t.self).pointee
            let (_, body) = try handle.readContent(channel: frame.channel)
            ledger.brokerReturned(exchange: LibRabbitMQDecoding.string(ret.exchange),
                                  routingKey: LibRabbitMQDecoding.string(ret.routing_key), body: body,
                                  replyCode: ret.reply_code, replyText: LibRabbitMQDecoding.string(ret.reply_text))
        case LibRabbitMQMethod.basicCancel:
            let cancel = method.decoded.assumingMemoryBound(to: amqp_basic_cancel_t.self).pointee
            let tag = LibRabbitMQDecoding.string(cancel.consumer_tag)
            perform(machine.brokerCancelledConsumer(tag: tag), error: AMQPError(
                .consumerCancelled, "the broker cancelled the consumer (queue deleted or unavailable)",
                host: endpoint, operation: "basic.consume"))
        case LibRabbitMQMethod.channelClose:
            let close = method.decoded.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
            let replyText = LibRabbitMQDecoding.string(close.reply_text)
            let error = AMQPError(.channelClosed, "broker closed channel \(frame.channel)",
                                  replyCode: close.reply_code, replyText: replyText, host: endpoint)
            handle.sendChannelCloseOk(frame.channel)
            logger.warning("broker closed a channel", metadata: ["amqp.channel": "\(frame.channel)",
                                                                 "amqp.reply": "\(close.reply_code) \(replyText)"])
            let channel: ConnectionStateMachine.Channel = switch frame.channel {
            case LibRabbitMQHandle.publishChannel: .publishing
            case LibRabbitMQHandle.consumeChannel: .consuming
            default: .other
            }
            try carryOut(machine.channelClosed(channel, number: frame.channel, replyCode: close.reply_code,
                                                     replyText: replyText), error: error)
        case LibRabbitMQMethod.connectionClose:
            let close = method.decoded.assumingMemoryBound(to: amqp_connection_close_t.self).pointee
            handle.sendConnectionCloseOk()
            throw AMQPError(.connectionClosed, "broker closed the connection", replyCode: close.reply_code,
                            replyText: LibRabbitMQDecoding.string(close.reply_text), host: endpoint)
        case LibRabbitMQMethod.connectionBlocked:
            let blocked = method.decoded.assumingMemoryBound(to: amqp_connection_blocked_t.self).pointee
            perform(machine.brokerBlocked(reason: LibRabbitMQDecoding.string(blocked.reason)), error: nil)
        case LibRabbitMQMethod.connectionUnblocked:
            perform(machine.brokerUnblocked(), error: nil)
        default:
            return  // cancel-ok and other replies we do not wait for
        }
    }
}

extension ConsumerRegistry {
    /// How a delivery for a consumer we no longer have goes back to its queue
    /// (``DeliveryAction/requeueForUnknownConsumer``): `basic.nack` with requeue, never `basic.reject`.
    static var requeueSettlement: LibRabbitMQHandle.Settlement { .nack(requeue: true) }
}
