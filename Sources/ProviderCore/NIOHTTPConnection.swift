import Logging
import NIOCore
import NIOHTTP1
import NIOSSL
import NIOTLS

/// One keep-alive HTTP/1.1 connection of a ``NIOHTTPHostPool``: its channel and the handler that runs one request
/// at a time on it. The handler is only touched on the channel's event loop (`NIOLoopBound` checks that).
final class NIOHTTPConnection: Sendable {
    let channel: any Channel
    let handler: NIOLoopBound<NIOHTTPClientHandler>

    init(channel: any Channel, handler: NIOLoopBound<NIOHTTPClientHandler>) {
        self.channel = channel
        self.handler = handler
    }

    /// Sends `request` on this connection (from any thread: one hop to the event loop when not on it).
    func execute(_ request: NIOHTTPRequest) {
        if channel.eventLoop.inEventLoop {
            handler.value.start(request)
        } else {
            let handler = self.handler
            channel.eventLoop.execute { handler.value.start(request) }
        }
    }

    /// Closes the connection, for `reason` (its debug line says why), from any thread.
    func close(_ reason: NIOHTTPClientHandler.CloseReason) {
        if channel.eventLoop.inEventLoop {
            handler.value.close(reason)
        } else {
            let handler = self.handler
            channel.eventLoop.execute { handler.value.close(reason) }
        }
    }

    /// Closes a connection the pool took out of its idle list, unused for `idle`.
    func closeIdle(after idle: TimeAmount) { close(.idle(idle)) }
}

/// The last handler of a connection's pipeline (after the TLS handler, when there is one, and NIO's HTTP/1.1
/// encoder and decoder). It reports when the connection is ready (connected; for https, the TLS handshake done),
/// writes one request, collects its response up to the request's `maxResponseBytes` with a timer at its deadline,
/// and then either hands the connection back to its pool (keep-alive) or closes it.
///
/// A request is written in one flush (head, body, end). The socket makes one write call per flush that reaches it
/// (`writeSpinCount` 0, set by the pool; a request is far below one call's `IOV_MAX` buffers), and when that call
/// fails NIO closes the channel inside the flush. So a close, or an error, that arrives while ``start(_:)`` is still
/// flushing, when at most one flush reached the socket meanwhile (``NIOHTTPSocketFlushes``; TLS could in principle
/// flush more than once), proves that nothing of the request was written: on a reused connection the request goes
/// back to the pool for a new connection, on a new one it fails as not sent. Anything else counts as sent.
final class NIOHTTPClientHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    /// Why the connection closed, for its debug line.
    enum CloseReason: Sendable, CustomStringConvertible {
        case idle(TimeAmount)
        /// The response asked for it (`Connection: close`, HTTP/1.0 without keep-alive).
        case notKeepAlive
        case failed(NIOHTTPFailure.Kind)
        /// The request finished before its response did (cancelled; its response will never be read).
        case abandoned
        /// Bytes arrived while no request was waiting for them.
        case unexpectedData
        case shutDown

        var description: String {
            switch self {
            case .idle: "idle timeout"
            case .notKeepAlive: "the response did not keep the connection alive"
            case .failed(let kind): "the request failed (\(kind))"
            case .abandoned: "the request was cancelled"
            case .unexpectedData: "data arrived while no request was waiting"
            case .shutDown: "shutdown"
            }
        }
    }

    private let pool: NIOHTTPHostPool
    private let tls: Bool
    private let socketFlushes: NIOHTTPSocketFlushes
    private let peer: String
    private let maxResponseHeadBytes: Int
    /// The logger of the request that opened the connection: the connection's own debug lines.
    private let logger: Logger
    /// Succeeds once a request can be written; failed when the connection closes or fails before.
    let ready: EventLoopPromise<Void>
    private var isReady = false
    private var context: ChannelHandlerContext?
    /// Set once the connection is established; `nil` again after it closed (breaks the reference cycle).
    var connection: NIOHTTPConnection?

    private var current: NIOHTTPRequest?
    private var responseHead: HTTPResponseHead?
    private var body: ByteBuffer?
    private var timer: Scheduled<Void>?
    private var closing = false
    private var closeReason: CloseReason?
    /// Requests given to this connection so far: the connection is reused from the second on.
    private var requests = 0
    /// While ``start(_:)`` writes and flushes a request; what closes or fails the channel meanwhile sets `failedInFlush`.
    private var flushing = false
    private var failedInFlush = false
    /// Bytes read while flushing (NIO drains the socket after a failed write): never the request's response.
    private var readInFlush = false

    init(pool: NIOHTTPHostPool, tls: Bool, socketFlushes: NIOHTTPSocketFlushes, ready: EventLoopPromise<Void>,
         peer: String, maxResponseHeadBytes: Int, logger: Logger) {
        self.pool = pool
        self.tls = tls
        self.socketFlushes = socketFlushes
        self.ready = ready
        self.peer = peer
        self.maxResponseHeadBytes = maxResponseHeadBytes
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive, !tls { markReady() }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        // A channel that never became active (its connect failed) is torn down without channelInactive.
        if !isReady {
            isReady = true
            ready.fail(NIOHTTPFailure.ConnectionClosed())
        }
    }

    private func markReady() {
        guard !isReady else { return }
        isReady = true
        ready.succeed(())
    }

    func channelActive(context: ChannelHandlerContext) {
        if !tls { markReady() }
        context.fireChannelActive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? TLSUserEvent, case .handshakeCompleted = event { markReady() }
        context.fireUserInboundEventTriggered(event)
    }

    // MARK: One request

    /// Writes `request` (on the event loop). A request that finished meanwhile (cancelled, expired) gives the
    /// connection back. One that could not be written (the connection closed before or while it was flushed) goes
    /// out on a new connection when this one was reused, else fails as not sent.
    func start(_ request: NIOHTTPRequest) {
        let reused = requests > 0
        guard let context, let connection, !closing, context.channel.isActive else {
            notWritten(request, reused: reused)
            return
        }
        guard request.start(on: connection) else {
            pool.release(connection)
            return
        }
        requests += 1
        current = request
        responseHead = nil
        body = nil
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: request.deadline) { [self] in
            guard let current, current === request else { return }
            finish(.failure(.deadline(sent: true)))
        }
        flushing = true
        let flushesBefore = socketFlushes.count
        context.write(wrapOutboundOut(.head(NIOHTTPRequest.observedHead)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(request.bytes))), promise: nil)
        flushing = false
        if failedInFlush, socketFlushes.count &- flushesBefore <= 1 {
            current = nil
            timer?.cancel()
            timer = nil
            close(.failed(.connection))
            notWritten(request, reused: reused)
        } else if failedInFlush || readInFlush {
            // Not reachable as NIO and NIOSSL work today (more than one flush at the socket; a read during a flush
            // comes only after a failed write): the request may have been sent, and bytes read meanwhile cannot be
            // trusted as its response.
            finish(.failure(.connection(NIOHTTPFailure.ConnectionClosed(), sent: true)))
        }
    }

    /// `request` was not written: it goes out on a new connection when this one was reused (the server closed it
    /// while idle), else it fails, not sent.
    private func notWritten(_ request: NIOHTTPRequest, reused: Bool) {
        if reused {
            guard request.requeue() else { return }
            request.logger.debug(
                "provider connection closed before the request was written; sending it on a new connection",
                metadata: [NIOHTTPLoggingKeys.peer: "\(peer)"])
            pool.dispatch(request, reuse: false)
        } else {
            request.fail(.connection(NIOHTTPFailure.ConnectionClosed(), sent: false))
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if flushing {
            readInFlush = true
            return
        }
        guard let request = current else {
            if !closing { close(.unexpectedData) }
            return
        }
        switch unwrapInboundIn(data) {
        case .head(let head):
            // 1xx answers (100 Continue, 103 Early Hints) come before the real one.
            if head.status.code < 200, head.status != .switchingProtocols { return }
            if let length = head.headers.first(name: "Content-Length").flatMap({ Int($0) }),
                length > request.maxResponseBytes
            {
                finish(.failure(.responseTooLarge))
                return
            }
            responseHead = head
        case .body(var part):
            let size = (body?.readableBytes ?? 0) + part.readableBytes
            guard size <= request.maxResponseBytes else {
                finish(.failure(.responseTooLarge))
                return
            }
            if body == nil {
                body = part
            } else {
                body!.writeBuffer(&part)
            }
        case .end:
            guard let head = responseHead else {
                finish(.failure(.connection(NIOHTTPFailure.ConnectionClosed(), sent: true)))
                return
            }
            let response = TransportResponse(
                status: Int(head.status.code),
                headers: head.headers.map { (name: $0.name, value: $0.value) },
                body: body.map { Array($0.readableBytesView) } ?? [])
            finish(.success(response), keepAlive: head.isKeepAlive)
        }
    }

    /// Ends the current request: cancels its timer, hands the connection back to the pool when the exchange
    /// completed and the server keeps the connection open (else closes it), then delivers the outcome.
    private func finish(_ result: Result<TransportResponse, NIOHTTPFailure>, keepAlive: Bool = false) {
        guard let request = current else { return }
        current = nil
        responseHead = nil
        body = nil
        timer?.cancel()
        timer = nil
        let delivery = request.claim(result)
        if delivery == nil {
            close(.abandoned)
        } else if case .failure(let failure) = result {
            close(.failed(failure.kind))
        } else if keepAlive, !closing, let connection {
            pool.release(connection)
        } else {
            close(.notKeepAlive)
        }
        delivery?.deliver()
    }

    /// Closes the channel (once); `reason` goes into the debug line written when it is closed.
    func close(_ reason: CloseReason) {
        guard !closing, let context else { return }
        closing = true
        closeReason = reason
        context.close(promise: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if !isReady {
            isReady = true
            ready.fail(error)
        } else if flushing {
            failedInFlush = true
        } else if current != nil {
            if case .headerOverflow? = error as? HTTPParserError {
                finish(.failure(.responseHeadTooLarge(limit: maxResponseHeadBytes)))
            } else {
                finish(.failure(.connection(error, sent: true)))
            }
        }
        close(.failed(.connection))
    }

    func channelInactive(context: ChannelHandlerContext) {
        closing = true
        if !isReady {
            isReady = true
            ready.fail(NIOHTTPFailure.ConnectionClosed())
        }
        if flushing {
            failedInFlush = true
        } else if current != nil {
            finish(.failure(.connection(NIOHTTPFailure.ConnectionClosed(), sent: true)))
        }
        if connection != nil {
            // Only connections that were established (a failed connect is logged by the pool).
            logger.debug("provider connection closed", metadata: closedMetadata())
        }
        connection = nil
        context.fireChannelInactive()
    }

    private func closedMetadata() -> Logger.Metadata {
        var metadata: Logger.Metadata = [
            NIOHTTPLoggingKeys.peer: "\(peer)",
            NIOHTTPLoggingKeys.reason: "\(closeReason?.description ?? "closed by the server")",
            NIOHTTPLoggingKeys.requests: "\(requests)",
        ]
        if case .idle(let idle)? = closeReason {
            metadata[NIOHTTPLoggingKeys.idleMilliseconds] = "\(idle.nanoseconds / 1_000_000)"
        }
        return metadata
    }
}

/// The first handler of a connection's pipeline, next to the socket: counts the flushes that reach it, so that
/// ``NIOHTTPClientHandler`` knows how many write calls the flush of a request could have made.
final class NIOHTTPSocketFlushes: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = NIOAny
    typealias OutboundOut = NIOAny

    private(set) var count = 0

    func flush(context: ChannelHandlerContext) {
        count &+= 1
        context.flush()
    }
}
