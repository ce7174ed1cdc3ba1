import Hummingbird
import NIOCore
import NIOHTTPTypes

/// Refuses request bodies over the limit without reading them into memory, then ends the connection safely.
///
/// - `Content-Length` over the limit: answered 413 from the head alone; the request never reaches the router and its
///   body is not waited for.
/// - A body without a length (chunked) that grows past the limit: the part that crosses it still reaches the route,
///   whose bounded collect fails and answers 413 (with `Connection: close` added here); later parts are dropped.
///
/// Either way the connection then closes "lingering": the output side is shut after the 413 is written, and what
/// the client still sends is discarded until it closes its side or ``RequestReadDeadlineHandler`` ends the
/// connection. Closing outright with unread bytes would make the kernel reset the connection, and the client could
/// lose the 413 before reading it. One instance per connection.
final class RequestBodyLimitHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private enum State {
        /// Passing the current request through; `bodyBytes` read of its body so far.
        case forwarding(bodyBytes: Int)
        /// The current body crossed the limit: its remaining parts are dropped, the connection ends after the
        /// response.
        case overLimit
        /// The output side is (being) shut; everything read is discarded until the input closes.
        case draining
    }

    private let maximumBodyBytes: Int
    private var state = State.forwarding(bodyBytes: 0)
    /// The current request's response has been written to its end.
    private var responseComplete = false
    private var inputClosed = false

    init(maximumBodyBytes: Int) {
        self.maximumBodyBytes = maximumBodyBytes
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch (state, unwrapInboundIn(data)) {
        case (.forwarding, .head(let head)):
            responseComplete = false
            if let length = head.headerFields[.contentLength].flatMap({ Int($0) }), length > maximumBodyBytes {
                refuseFromHead(context: context)
                return
            }
            state = .forwarding(bodyBytes: 0)
            context.fireChannelRead(data)
        case (.forwarding(let bodyBytes), .body(let buffer)):
            let total = bodyBytes + buffer.readableBytes
            if total > maximumBodyBytes {
                state = .overLimit
                // The route's bounded collect sees the crossing part and answers 413; if the response is already
                // out (a route that never reads bodies), nothing else will come: end the connection now.
                context.fireChannelRead(data)
                if responseComplete { shutOutputAndDrain(context: context) }
            } else {
                state = .forwarding(bodyBytes: total)
                context.fireChannelRead(data)
            }
        case (.forwarding, .end):
            state = .forwarding(bodyBytes: 0)
            context.fireChannelRead(data)
        case (.overLimit, _), (.draining, _):
            break  // discarded
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch (state, unwrapOutboundIn(data)) {
        case (.overLimit, .head(var head)):
            head.headerFields[.connection] = "close"
            context.write(wrapOutboundOut(.head(head)), promise: promise)
        case (.overLimit, .end):
            let written = promise ?? context.eventLoop.makePromise()
            context.write(data, promise: written)
            written.futureResult.assumeIsolated().whenComplete { [self] _ in shutOutputAndDrain(context: context) }
        case (.forwarding, .end):
            responseComplete = true
            context.write(data, promise: promise)
        default:
            context.write(data, promise: promise)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed {
            inputClosed = true
            if case .draining = state {
                context.close(promise: nil)
                return
            }
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// Answers 413 from the request head; the head is never passed on, so the router never sees the request.
    private func refuseFromHead(context: ChannelHandlerContext) {
        state = .overLimit
        let body = JSONResponseBody.encode(
            JSONResponseBody.ErrorBody(error: "request body over \(maximumBodyBytes) bytes"))
        let head = HTTPResponse(status: .contentTooLarge, headerFields: [
            .contentType: JSONResponseBody.contentType, .contentLength: "\(body.readableBytes)", .connection: "close",
        ])
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(body)), promise: nil)
        let written = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: written)
        written.futureResult.assumeIsolated().whenComplete { [self] _ in shutOutputAndDrain(context: context) }
    }

    private func shutOutputAndDrain(context: ChannelHandlerContext) {
        if case .draining = state { return }
        state = .draining
        guard context.channel.isActive, !inputClosed else {
            context.close(promise: nil)
            return
        }
        let shut = context.eventLoop.makePromise(of: Void.self)
        context.close(mode: .output, promise: shut)
        shut.futureResult.assumeIsolated().whenFailure { _ in context.close(promise: nil) }
    }
}
