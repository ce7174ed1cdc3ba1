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
}

/// The last handler of a connection's pipeline (after the TLS handler, when there is one, and NIO's HTTP/1.1
/// encoder and decoder). It reports when the connection is ready (connected; for https, the TLS handshake done),
/// writes one request, collects its response up to the request's `maxResponseBytes` with a timer at its deadline,
/// and then either hands the connection back to its pool (keep-alive) or closes it.
final class NIOHTTPClientHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private let pool: NIOHTTPHostPool
    private let tls: Bool
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

    init(pool: NIOHTTPHostPool, tls: Bool, ready: EventLoopPromise<Void>) {
        self.pool = pool
        self.tls = tls
        self.ready = ready
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

    /// Writes `request` (on the event loop). A connection that closed meanwhile puts the request back into the
    /// pool (it was not sent); a request that finished meanwhile (cancelled, expired) gives the connection back.
    func start(_ request: NIOHTTPRequest) {
        guard let context, let connection, !closing, context.channel.isActive else {
            pool.dispatch(request)
            return
        }
        guard request.start(on: connection) else {
            pool.release(connection)
            return
        }
        current = request
        responseHead = nil
        body = nil
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: request.deadline) { [self] in
            guard let current, current === request else { return }
            finish(.failure(.deadline(sent: true)))
        }
        context.write(wrapOutboundOut(.head(request.head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(request.body))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let request = current else { return }
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
        if delivery != nil, keepAlive, !closing, let connection {
            pool.release(connection)
        } else {
            close()
        }
        delivery?.deliver()
    }

    private func close() {
        guard !closing, let context else { return }
        closing = true
        context.close(promise: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if !isReady {
            isReady = true
            ready.fail(error)
        } else if current != nil {
            finish(.failure(.connection(error, sent: true)))
        }
        close()
    }

    func channelInactive(context: ChannelHandlerContext) {
        closing = true
        if !isReady {
            isReady = true
            ready.fail(NIOHTTPFailure.ConnectionClosed())
        }
        if current != nil { finish(.failure(.connection(NIOHTTPFailure.ConnectionClosed(), sent: true))) }
        connection = nil
        context.fireChannelInactive()
    }
}
