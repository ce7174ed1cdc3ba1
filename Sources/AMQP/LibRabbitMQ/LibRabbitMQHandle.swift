import CRabbitMQ
import CRabbitMQShims
import Foundation

/// Owns exactly one `amqp_connection_state_t`.
///
/// Thread confinement: created, used and closed only on its connection's I/O thread (``AMQPIOThread``); it is
/// never shared, so it is deliberately not `Sendable`. `close()` is the one place the C state is destroyed; the
/// pointer is `nil` afterwards.
final class LibRabbitMQHandle {
    /// Channel numbers: publishing (confirm mode), consuming (QoS + consumers), topology RPCs. Separate channels
    /// keep a failed passive declare (404 closes its channel) away from publishers and consumers.
    static let publishChannel: amqp_channel_t = 1
    static let consumeChannel: amqp_channel_t = 2
    static let topologyChannel: amqp_channel_t = 3

    private(set) var state: amqp_connection_state_t?
    let endpoint: String
    /// The socket, once open.
    private var socket: OpaquePointer?
    /// The C memory of one publish at a time (reset by each; the handle lives on the I/O thread alone).
    let publishArena = LibRabbitMQArena()

    private init(state: amqp_connection_state_t, endpoint: String) {
        self.state = state
        self.endpoint = endpoint
    }

    /// Holds sends in the socket's send buffer (`crmq_send_buffer_install`) or writes what was held. While
    /// holding, a run of publishes and acks goes out as one write (one TLS record, one wake-up of the broker's
    /// reader) instead of one per frame, three per publish. Must be off before waiting for a reply: a held
    /// request never leaves. A write that fails shuts the socket down, so the next read reports the loss.
    /// Whether the buffer holds is its own state: holding twice, or releasing with nothing held, costs nothing.
    func setHolding(_ on: Bool) {
        guard let socket else { return }
        if on {
            crmq_send_buffer_hold(socket)
        } else {
            _ = crmq_send_buffer_release(socket)
        }
    }

    deinit {
        assert(state == nil, "LibRabbitMQHandle for \(endpoint) was not closed")
        if let state { amqp_destroy_connection(state) }
    }

    /// Connects (TCP or TLS), logs in and opens the three channels, publish channel in confirm mode.
    /// Cleans up after a partial failure: the C state is destroyed before the error is thrown.
    static func open(_ config: AMQPConfiguration) throws(AMQPError) -> LibRabbitMQHandle {
        guard let state = amqp_new_connection() else {
            throw AMQPError(.libraryError, "amqp_new_connection failed (out of memory)", host: config.endpoint)
        }
        let handle = LibRabbitMQHandle(state: state, endpoint: config.endpoint)
        do {
            try handle.connectAndLogin(config)
            try handle.openChannel(publishChannel, confirm: true)
            try handle.openChannel(consumeChannel, confirm: false)
            try handle.openChannel(topologyChannel, confirm: false)
        } catch {
            handle.close(graceful: false)
            throw error
        }
        return handle
    }

    private func connectAndLogin(_ config: AMQPConfiguration) throws(AMQPError) {
        guard let state else { throw closedError("connect") }
        let socket: OpaquePointer?
        if let tls = config.tls {
            socket = amqp_ssl_socket_new(state)
            if let socket {
                if let ca = tls.caCertificatePath {
                    let status = amqp_ssl_socket_set_cacert(socket, ca)
                    guard status == AMQP_STATUS_OK.rawValue else {
                        throw AMQPError(.invalidConfiguration, "cannot read CA certificate file \(ca)",
                                        libraryStatus: status, host: endpoint, operation: "tls")
                    }
                }
                switch (tls.clientCertificatePath, tls.clientKeyPath) {
                case (let certificate?, let key?):
                    let status = amqp_ssl_socket_set_key(socket, certificate, key)
                    guard status == AMQP_STATUS_OK.rawValue else {
                        throw AMQPError(.invalidConfiguration, "cannot use client certificate file \(certificate) "
                                            + "with key file \(key) (unreadable, not PEM, or not a pair)",
                                        libraryStatus: status, host: endpoint, operation: "tls")
                    }
                case (nil, nil):
                    break
                default:
                    throw AMQPError(.invalidConfiguration, "a TLS client certificate needs both its certificate and "
                                        + "its key file", host: endpoint, operation: "tls")
                }
                amqp_ssl_socket_set_verify_peer(socket, tls.verifyPeer ? 1 : 0)
                amqp_ssl_socket_set_verify_hostname(socket, tls.verifyPeer ? 1 : 0)
            }
        } else {
            socket = amqp_tcp_socket_new(state)
        }
        guard let socket else {
            throw AMQPError(.libraryError, "cannot create socket", host: endpoint, operation: "connect")
        }
        var timeout = Self.timeval(config.operationTimeout)
        let status = amqp_socket_open_noblock(socket, config.host, Int32(config.port), &timeout)
        guard status == AMQP_STATUS_OK.rawValue else {
            throw AMQPError(.connectionFailed, "cannot connect: \(Self.statusText(status))",
                            libraryStatus: status, host: endpoint, operation: "connect")
        }
        // Without the buffer (a librabbitmq whose sockets look different) every frame is written on its own.
        _ = crmq_send_buffer_install(socket)
        self.socket = socket
        _ = amqp_set_rpc_timeout(state, &timeout)
        let heartbeatSeconds = Int32(config.heartbeat.components.seconds)
        let reply = crmq_login(state, config.virtualHost, 0, Int32(config.frameMax), heartbeatSeconds,
                               config.user, config.password, config.connectionName)
        do {
            try check(reply, operation: "login(vhost \(config.virtualHost), user \(config.user))")
        } catch {
            var error = error
            // RabbitMQ answers bad credentials with connection.close 403 (authentication_failure_close) or, for
            // clients without that capability, by closing the socket during login.
            if error.replyCode == 403 || error.replyCode == 530
                || error.libraryStatus == AMQP_STATUS_CONNECTION_CLOSED.rawValue
                || error.libraryStatus == AMQP_STATUS_SOCKET_CLOSED.rawValue
            {
                error.code = .authenticationFailed
                error.message = "login refused: check the user name, password and vhost access ("
                    + (error.replyText ?? "broker closed the connection") + ")"
            }
            throw error
        }
    }

    func openChannel(_ channel: amqp_channel_t, confirm: Bool) throws(AMQPError) {
        guard let state else { throw closedError("channel.open") }
        _ = amqp_channel_open(state, channel)
        try check(amqp_get_rpc_reply(state), operation: "channel.open(\(channel))")
        if confirm {
            _ = amqp_confirm_select(state, channel)
            try check(amqp_get_rpc_reply(state), operation: "confirm.select(\(channel))")
        }
    }

    /// Closes one channel with the handshake (`channel.close`, then waits for `close-ok`, bounded by the RPC
    /// timeout). Frames of other channels that arrive meanwhile are kept by librabbitmq for the frame loop.
    func closeChannel(_ channel: amqp_channel_t) throws(AMQPError) {
        guard let state else { throw closedError("channel.close") }
        try check(amqp_channel_close(state, channel, Int32(AMQP_REPLY_SUCCESS)), operation: "channel.close(\(channel))")
    }

    /// Closes the connection. `graceful` sends channel.close/connection.close first (bounded by the RPC timeout).
    /// The only place the C state is destroyed.
    func close(graceful: Bool) {
        guard let state else { return }
        setHolding(false)
        if graceful {
            for channel in [Self.topologyChannel, Self.consumeChannel, Self.publishChannel] {
                _ = amqp_channel_close(state, channel, Int32(AMQP_REPLY_SUCCESS))
            }
            _ = amqp_connection_close(state, Int32(AMQP_REPLY_SUCCESS))
        }
        amqp_destroy_connection(state)
        self.state = nil
        socket = nil
    }

    /// Runs `body` with the live C state. Only on the I/O thread.
    func withRaw<R>(_ operation: @autoclosure () -> String,
                    _ body: (amqp_connection_state_t) throws(AMQPError) -> R) throws(AMQPError) -> R {
        guard let state else { throw closedError(operation()) }
        return try body(state)
    }

    // MARK: - Error mapping (the one place C results become AMQPError)

    /// Maps an `amqp_rpc_reply_t` to success or an ``AMQPError``. On a server exception it also answers the
    /// broker (`channel.close-ok` / `connection.close-ok`) as the protocol requires.
    func check(_ reply: amqp_rpc_reply_t, operation: String) throws(AMQPError) {
        switch reply.reply_type {
        case AMQP_RESPONSE_NORMAL:
            return
        case AMQP_RESPONSE_LIBRARY_EXCEPTION:
            throw Self.error(status: reply.library_error, host: endpoint, operation: operation)
        case AMQP_RESPONSE_SERVER_EXCEPTION:
            if reply.reply.id == LibRabbitMQMethod.connectionClose, let raw = reply.reply.decoded {
                let close = raw.assumingMemoryBound(to: amqp_connection_close_t.self).pointee
                let text = LibRabbitMQDecoding.string(close.reply_text)
                sendConnectionCloseOk()
                throw AMQPError(.connectionClosed, "broker closed the connection", replyCode: close.reply_code,
                                replyText: text, host: endpoint, operation: operation)
            }
            if reply.reply.id == LibRabbitMQMethod.channelClose, let raw = reply.reply.decoded {
                let close = raw.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
                let text = LibRabbitMQDecoding.string(close.reply_text)
                throw AMQPError(.channelClosed, "broker closed the channel", replyCode: close.reply_code,
                                replyText: text, host: endpoint, operation: operation)
            }
            throw AMQPError(.protocolViolation, "unexpected server method 0x\(String(reply.reply.id, radix: 16))",
                            host: endpoint, operation: operation)
        default:
            throw AMQPError(.connectionClosed, "no reply: the socket reached end of file", host: endpoint,
                            operation: operation)
        }
    }

    /// Maps a negative `AMQP_STATUS_*` to an error.
    static func error(status: Int32, host: String, operation: String) -> AMQPError {
        let code: AMQPError.Code
        switch status {
        case AMQP_STATUS_HEARTBEAT_TIMEOUT.rawValue: code = .heartbeatTimeout
        case AMQP_STATUS_TIMEOUT.rawValue: code = .timeout
        case AMQP_STATUS_CONNECTION_CLOSED.rawValue, AMQP_STATUS_SOCKET_ERROR.rawValue,
            AMQP_STATUS_SOCKET_CLOSED.rawValue, AMQP_STATUS_SSL_ERROR.rawValue, AMQP_STATUS_TCP_ERROR.rawValue:
            code = .connectionClosed
        case AMQP_STATUS_BAD_AMQP_DATA.rawValue, AMQP_STATUS_UNEXPECTED_STATE.rawValue,
            AMQP_STATUS_WRONG_METHOD.rawValue, AMQP_STATUS_UNKNOWN_CLASS.rawValue, AMQP_STATUS_UNKNOWN_METHOD.rawValue:
            code = .protocolViolation
        default: code = .libraryError
        }
        return AMQPError(code, statusText(status), libraryStatus: status, host: host, operation: operation)
    }

    static func statusText(_ status: Int32) -> String {
        guard let text = amqp_error_string2(status) else { return "status \(status)" }
        return String(cString: text)
    }

    func closedError(_ operation: String) -> AMQPError {
        AMQPError(.alreadyClosed, "the connection is closed", host: endpoint, operation: operation)
    }

    func sendChannelCloseOk(_ channel: amqp_channel_t) {
        guard let state else { return }
        var ok = amqp_channel_close_ok_t(dummy: 0)
        _ = amqp_send_method(state, channel, LibRabbitMQMethod.channelCloseOk, &ok)
    }

    func sendConnectionCloseOk() {
        guard let state else { return }
        var ok = amqp_connection_close_ok_t(dummy: 0)
        _ = amqp_send_method(state, 0, LibRabbitMQMethod.connectionCloseOk, &ok)
    }

    static func timeval(_ duration: Duration) -> Glibc.timeval {
        let (seconds, attoseconds) = duration.components
        return Glibc.timeval(tv_sec: Int(seconds), tv_usec: Int(attoseconds / 1_000_000_000_000))
    }
}
