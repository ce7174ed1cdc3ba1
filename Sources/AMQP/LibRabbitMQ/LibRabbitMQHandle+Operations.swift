import CRabbitMQ
import CRabbitMQShims
import Foundation

/// Synchronous AMQP methods and frame I/O. All of these run on the I/O thread only.
extension LibRabbitMQHandle {
    func declareExchange(_ exchange: AMQPExchange) throws(AMQPError) {
        try withRaw("exchange.declare(\(exchange.name))") { state throws(AMQPError) in
            let arena = LibRabbitMQArena()
            _ = amqp_exchange_declare(
                state, Self.topologyChannel, arena.bytes(exchange.name), arena.bytes(exchange.type.rawValue),
                exchange.passive ? 1 : 0, exchange.durable ? 1 : 0, exchange.autoDelete ? 1 : 0,
                exchange.isInternal ? 1 : 0, arena.table(exchange.arguments))
            try checkTopology(amqp_get_rpc_reply(state), operation: "exchange.declare(\(exchange.name))")
        }
    }

    func deleteExchange(_ name: String) throws(AMQPError) {
        try withRaw("exchange.delete(\(name))") { state throws(AMQPError) in
            let arena = LibRabbitMQArena()
            _ = amqp_exchange_delete(state, Self.topologyChannel, arena.bytes(name), 0)
            try checkTopology(amqp_get_rpc_reply(state), operation: "exchange.delete(\(name))")
        }
    }

    func declareQueue(_ queue: AMQPQueue) throws(AMQPError) -> AMQPQueueState {
        try withRaw("queue.declare(\(queue.name))") { state throws(AMQPError) in
            let arena = LibRabbitMQArena()
            let ok = amqp_queue_declare(
                state, Self.topologyChannel, arena.bytes(queue.name), queue.passive ? 1 : 0, queue.durable ? 1 : 0,
                queue.exclusive ? 1 : 0, queue.autoDelete ? 1 : 0, arena.table(queue.declareArguments))
            try checkTopology(amqp_get_rpc_reply(state), operation: "queue.declare(\(queue.name))")
            guard let ok else { return AMQPQueueState(name: queue.name, messageCount: 0, consumerCount: 0) }
            return AMQPQueueState(name: LibRabbitMQDecoding.string(ok.pointee.queue),
                                  messageCount: ok.pointee.message_count, consumerCount: ok.pointee.consumer_count)
        }
    }

    func deleteQueue(_ name: String) throws(AMQPError) -> UInt32 {
        try withRaw("queue.delete(\(name))") { state throws(AMQPError) in
            let arena = LibRabbitMQArena()
            let ok = amqp_queue_delete(state, Self.topologyChannel, arena.bytes(name), 0, 0)
            try checkTopology(amqp_get_rpc_reply(state), operation: "queue.delete(\(name))")
            return ok?.pointee.message_count ?? 0
        }
    }

    func purgeQueue(_ name: String) throws(AMQPError) -> UInt32 {
        try withRaw("queue.purge(\(name))") { state throws(AMQPError) in
            let arena = LibRabbitMQArena()
            let ok = amqp_queue_purge(state, Self.topologyChannel, arena.bytes(name))
            try checkTopology(amqp_get_rpc_reply(state), operation: "queue.purge(\(name))")
            return ok?.pointee.message_count ?? 0
        }
    }

    func bind(_ binding: AMQPBinding) throws(AMQPError) {
        let operation = "queue.bind(\(binding.queue) ← \(binding.exchange) '\(binding.routingKey)')"
        try withRaw(operation) { state throws(AMQPError) in
            let arena = LibRabbitMQArena()
            _ = amqp_queue_bind(state, Self.topologyChannel, arena.bytes(binding.queue), arena.bytes(binding.exchange),
                                arena.bytes(binding.routingKey), arena.table(binding.arguments))
            try checkTopology(amqp_get_rpc_reply(state), operation: operation)
        }
    }

    /// A channel error on the topology channel (404 on a passive declare, 406 on an argument mismatch) closes only
    /// that channel: acknowledge the close, reopen it, and report the error to the caller.
    private func checkTopology(_ reply: amqp_rpc_reply_t, operation: String) throws(AMQPError) {
        do {
            try check(reply, operation: operation)
        } catch {
            if error.code == .channelClosed {
                sendChannelCloseOk(Self.topologyChannel)
                try openChannel(Self.topologyChannel, confirm: false)
            }
            throw error
        }
    }

    func qos(prefetch: UInt16) throws(AMQPError) {
        try withRaw("basic.qos(\(prefetch))") { state throws(AMQPError) in
            _ = amqp_basic_qos(state, Self.consumeChannel, 0, prefetch, 0)
            try check(amqp_get_rpc_reply(state), operation: "basic.qos(\(prefetch))")
        }
    }

    func consume(queue: String, consumerTag: String, arguments: AMQPTable) throws(AMQPError) {
        try withRaw("basic.consume(\(queue))") { state throws(AMQPError) in
            let arena = LibRabbitMQArena()
            _ = amqp_basic_consume(state, Self.consumeChannel, arena.bytes(queue), arena.bytes(consumerTag), 0, 0, 0,
                                   arena.table(arguments))
            try check(amqp_get_rpc_reply(state), operation: "basic.consume(\(queue))")
        }
    }

    /// Sends basic.cancel without waiting for cancel-ok (it arrives through the frame loop and is ignored), so a
    /// cancel never blocks deliveries that are already on the wire.
    func cancel(consumerTag: String) throws(AMQPError) {
        try withRaw("basic.cancel(\(consumerTag))") { state throws(AMQPError) in
            let arena = LibRabbitMQArena()
            var method = amqp_basic_cancel_t(consumer_tag: arena.bytes(consumerTag), nowait: 0)
            let status = amqp_send_method(state, Self.consumeChannel, LibRabbitMQMethod.basicCancel, &method)
            guard status == AMQP_STATUS_OK.rawValue else {
                throw Self.error(status: status, host: endpoint, operation: "basic.cancel(\(consumerTag))")
            }
        }
    }

    func publish(exchange: String, routingKey: String, mandatory: Bool, properties: AMQPProperties,
                 body: [UInt8]) throws(AMQPError) {
        try withRaw("basic.publish(\(exchange) '\(routingKey)')") { state throws(AMQPError) in
            // Everything is checked before anything is sent: librabbitmq sends the method frame before it encodes
            // the properties, so a failure there would leave the channel half-way through a message.
            try Self.checkEncodable(properties, frameMax: Int(amqp_get_frame_max(state)),
                                    operation: "basic.publish(\(exchange.prefix(255)))")
            let arena = publishArena
            arena.reset()
            var props = arena.properties(properties)
            let exchangeBytes = arena.shortString(exchange, what: "the exchange name")
            let routingKeyBytes = arena.shortString(routingKey, what: "the routing key")
            if let problem = arena.oversizedShortString {
                throw AMQPError(.invalidConfiguration, "cannot publish: \(problem)",
                                operation: "basic.publish(\(exchange.prefix(255)))")
            }
            let status = body.withUnsafeBytes { raw in
                amqp_basic_publish(state, Self.publishChannel, exchangeBytes, routingKeyBytes,
                                   mandatory ? 1 : 0, 0, &props,
                                   amqp_bytes_t(len: raw.count, bytes: UnsafeMutableRawPointer(mutating: raw.baseAddress)))
            }
            guard status == AMQP_STATUS_OK.rawValue else {
                throw Self.error(status: status, host: endpoint, operation: "basic.publish(\(exchange) '\(routingKey)')")
            }
        }
    }

    /// Refuses, with ``AMQPError/Code/propertiesTooLarge``, properties that cannot be sent on a connection whose
    /// negotiated `frame_max` is `frameMax`: a short string of more than 255 bytes among them (a header key at any
    /// depth included), or more encoded bytes than one content-header frame carries
    /// (``AMQPProperties/maximumEncodedBytes(frameMax:)``).
    static func checkEncodable(_ properties: AMQPProperties, frameMax: Int,
                               operation: @autoclosure () -> String) throws(AMQPError) {
        if let problem = properties.oversizedShortString {
            throw AMQPError(.propertiesTooLarge, "cannot publish: \(problem)", operation: operation())
        }
        guard frameMax > 0 else { return }  // not negotiated: librabbitmq's own buffer decides
        let bytes = properties.encodedByteCount
        let limit = AMQPProperties.maximumEncodedBytes(frameMax: frameMax)
        guard bytes <= limit else {
            throw AMQPError(.propertiesTooLarge, "cannot publish: the message properties (headers included) take "
                            + "\(bytes) bytes; one frame of frame_max \(frameMax) carries \(limit)",
                            operation: operation())
        }
    }

    enum Settlement: Sendable, Equatable {
        case ack
        case nack(requeue: Bool)
        case reject(requeue: Bool)
    }

    func settle(deliveryTag: UInt64, _ settlement: Settlement) throws(AMQPError) {
        try withRaw("basic.ack") { state throws(AMQPError) in
            let status: Int32
            switch settlement {
            case .ack: status = amqp_basic_ack(state, Self.consumeChannel, deliveryTag, 0)
            case .nack(let requeue): status = amqp_basic_nack(state, Self.consumeChannel, deliveryTag, 0, requeue ? 1 : 0)
            case .reject(let requeue): status = amqp_basic_reject(state, Self.consumeChannel, deliveryTag, requeue ? 1 : 0)
            }
            guard status == AMQP_STATUS_OK.rawValue else {
                throw Self.error(status: status, host: endpoint, operation: "basic.\(settlement)")
            }
        }
    }

    /// Frames already read and waiting in librabbitmq's buffers (no socket read needed).
    var hasBufferedFrames: Bool {
        guard let state else { return false }
        return amqp_frames_enqueued(state) != 0 || amqp_data_in_buffer(state) != 0
    }

    var socketFD: Int32 {
        guard let state else { return -1 }
        return amqp_get_sockfd(state)
    }

    /// Reads one frame if one is available right now. Also sends a heartbeat when one is due and reports a missed
    /// broker heartbeat (librabbitmq does both inside this call; 1 µs rather than 0 so the deadline comparison
    /// can pick the receive-heartbeat deadline).
    func nextFrame() throws(AMQPError) -> amqp_frame_t? {
        try withRaw("wait_frame") { state throws(AMQPError) in
            var frame = amqp_frame_t()
            var timeout = Glibc.timeval(tv_sec: 0, tv_usec: 1)
            let status = amqp_simple_wait_frame_noblock(state, &frame, &timeout)
            if status == AMQP_STATUS_TIMEOUT.rawValue { return nil }
            guard status == AMQP_STATUS_OK.rawValue else {
                throw Self.error(status: status, host: endpoint, operation: "wait_frame")
            }
            return frame
        }
    }

    /// Reads the content header and body that follow a basic.deliver / basic.return on `channel`.
    func readContent(channel: amqp_channel_t) throws(AMQPError) -> (AMQPProperties, [UInt8]) {
        try withRaw("read_message") { state throws(AMQPError) in
            var message = amqp_message_t()
            let reply = amqp_read_message(state, channel, &message, 0)
            // The operation's name only for an error: built on every delivery it cost two allocations.
            if reply.reply_type != AMQP_RESPONSE_NORMAL { try check(reply, operation: "read_message(channel \(channel))") }
            defer { amqp_destroy_message(&message) }
            return (LibRabbitMQDecoding.properties(message.properties), LibRabbitMQDecoding.bytes(message.body))
        }
    }

    func releaseBuffersIfPossible() {
        guard let state else { return }
        amqp_maybe_release_buffers(state)
    }
}
