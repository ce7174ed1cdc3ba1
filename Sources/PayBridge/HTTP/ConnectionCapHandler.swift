import NIOCore
import NIOHTTPTypes

/// Closes a new connection at once when its listener already has ``HTTPConnectionGuard/maximumConnections`` open,
/// or its client (``ClientAddress``) ``HTTPConnectionGuard/maximumConnectionsPerClient``; the admitted ones are not
/// affected. One instance per connection.
final class ConnectionCapHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart

    private let connectionGuard: HTTPConnectionGuard
    private let counters: HTTPListenerCounters
    private var decided = false
    private var admitted = false
    /// Where the connection comes from, known once decided.
    private var client = ClientAddress.unknown

    init(connectionGuard: HTTPConnectionGuard, counters: HTTPListenerCounters) {
        self.connectionGuard = connectionGuard
        self.counters = counters
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { admitOrClose(context: context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        releaseIfAdmitted()
    }

    func channelActive(context: ChannelHandlerContext) {
        if admitOrClose(context: context) { context.fireChannelActive() }
    }

    func channelInactive(context: ChannelHandlerContext) {
        releaseIfAdmitted()
        context.fireChannelInactive()
    }

    /// Decides once per connection; `false` when it is being closed.
    @discardableResult
    private func admitOrClose(context: ChannelHandlerContext) -> Bool {
        if decided { return admitted }
        decided = true
        client = ClientAddress(context.channel.remoteAddress)
        let admission = connectionGuard.admit(from: client)
        admitted = admission == .admitted
        if !admitted {
            counters.connectionRejected(admission)
            context.close(promise: nil)
        }
        return admitted
    }

    private func releaseIfAdmitted() {
        guard admitted else { return }
        admitted = false
        connectionGuard.release(from: client)
    }
}
