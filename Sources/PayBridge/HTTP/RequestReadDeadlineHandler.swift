import NIOCore
import NIOHTTPTypes

/// Closes the connection when a request has not arrived completely within the timeout, counted from the moment the
/// connection waits for it: accepted, or every response so far written. A partial request line or header, a body
/// trickled a byte every few seconds, or an idle keep-alive connection all end there.
///
/// Hummingbird's own `idleTimeout` is not enough: it restarts on every request part, so a body trickled in small
/// pieces keeps the connection open indefinitely.
///
/// Once the connection's output side is shut (``RequestBodyLimitHandler``'s lingering close after a 413) no request
/// will be answered again: the deadline starts one last time and nothing the client sends stops or restarts it, so
/// requests pipelined after a 413 cannot keep the connection open. One instance per connection.
final class RequestReadDeadlineHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let timeout: TimeAmount
    private let counters: HTTPListenerCounters
    private var deadline: Scheduled<Void>?
    /// Requests read completely (their `.end` arrived) and responses written completely, on this connection.
    private var requestsReceived = 0
    private var responsesSent = 0
    /// The output side is shut: the deadline runs to the end whatever arrives.
    private var lingering = false

    init(timeout: Duration, counters: HTTPListenerCounters) {
        self.timeout = TimeAmount(timeout)
        self.counters = counters
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { startDeadline(context: context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancelDeadline()
    }

    func channelActive(context: ChannelHandlerContext) {
        startDeadline(context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancelDeadline()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if !lingering, case .end = unwrapInboundIn(data) {
            requestsReceived += 1
            if requestsReceived > responsesSent {
                cancelDeadline()  // being answered: the application's time, not the client's
            } else {
                startDeadline(context: context)  // answered early (e.g. 413) and now read to its end: next request
            }
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if !lingering, case .end = unwrapOutboundIn(data) {
            responsesSent += 1
            // Equal: everything read has been answered, the next request's time starts. More responses than
            // requests: answered before the request was read to its end; its deadline keeps running.
            if responsesSent == requestsReceived { startDeadline(context: context) }
        }
        context.write(data, promise: promise)
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        if mode == .output, !lingering {
            lingering = true
            startDeadline(context: context)  // the client's last chance to read the answer and close its side
        }
        context.close(mode: mode, promise: promise)
    }

    private func startDeadline(context: ChannelHandlerContext) {
        cancelDeadline()
        deadline = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) { [self] in
            deadline = nil
            counters.requestReadTimedOut()
            context.close(promise: nil)
        }
    }

    private func cancelDeadline() {
        deadline?.cancel()
        deadline = nil
    }
}
