import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

/// The keep-alive connections of one ``NIOHTTPTransport`` to one host (scheme, host, port): at most
/// `maxConnections` open. A request takes the most recently used idle connection, else opens a new one while
/// fewer than `maxConnections` are open, else waits in a queue; a connection that finishes a response serves the
/// first waiting request directly on its event loop.
final class NIOHTTPHostPool: Sendable {
    let key: NIOHTTPEndpoint.Key
    private let maxConnections: Int
    private let connectTimeout: TimeAmount
    private let group: any EventLoopGroup
    private let tls: NIOSSLContext?
    private let serverHostname: String?

    private struct State {
        var idle: [NIOHTTPConnection] = []
        /// Connections open or being opened.
        var open = 0
        var waiting = CircularBuffer<NIOHTTPRequest>()
        var live: [ObjectIdentifier: NIOHTTPConnection] = [:]
        var shutDown = false
    }

    private let state = Mutex(State())

    init(key: NIOHTTPEndpoint.Key, maxConnections: Int, connectTimeout: Duration, group: any EventLoopGroup,
         tls: NIOSSLContext?, serverHostname: String?) {
        self.key = key
        self.maxConnections = max(1, maxConnections)
        self.connectTimeout = .nanoseconds(connectTimeout.nanosecondsTotal)
        self.group = group
        self.tls = tls
        self.serverHostname = serverHostname
    }

    private enum Next {
        case run(NIOHTTPConnection)
        case connect
        case queued
        case shutDown
    }

    /// Finds or makes a connection for `request` (any thread).
    func dispatch(_ request: NIOHTTPRequest) {
        let next = state.withLock { s -> Next in
            if s.shutDown { return .shutDown }
            while let connection = s.idle.popLast() {
                // One that closed while idle is dropped here; its close callback does the bookkeeping.
                if connection.channel.isActive { return .run(connection) }
            }
            if s.open < maxConnections {
                s.open += 1
                return .connect
            }
            s.waiting.append(request)
            return .queued
        }
        switch next {
        case .run(let connection): connection.execute(request)
        case .connect: connect(for: request)
        case .queued:
            group.next().scheduleTask(deadline: request.deadline) { request.expireIfWaiting() }
        case .shutDown: request.fail(.shutDown)
        }
    }

    /// A connection finished a response and stays open (on its event loop): it serves the first request still
    /// waiting, else it becomes idle.
    func release(_ connection: NIOHTTPConnection) {
        let (next, shutDown) = state.withLock { s -> (NIOHTTPRequest?, Bool) in
            if s.shutDown { return (nil, true) }
            while let request = s.waiting.popFirst() {
                if !request.isFinished { return (request, false) }
            }
            s.idle.append(connection)
            return (nil, false)
        }
        if let next {
            connection.execute(next)
        } else if shutDown {
            connection.channel.close(promise: nil)
        }
    }

    private func connectionClosed(_ connection: NIOHTTPConnection) {
        let waiter = state.withLock { s -> NIOHTTPRequest? in
            s.open -= 1
            s.live[ObjectIdentifier(connection)] = nil
            if let index = s.idle.firstIndex(where: { $0 === connection }) { s.idle.remove(at: index) }
            return takeWaiterForNewConnection(&s)
        }
        if let waiter { connect(for: waiter) }
    }

    /// When requests wait and a connection may be opened: counts it as open and returns the request it is for.
    private func takeWaiterForNewConnection(_ s: inout State) -> NIOHTTPRequest? {
        guard !s.shutDown, s.open < maxConnections else { return nil }
        while let request = s.waiting.popFirst() {
            if !request.isFinished {
                s.open += 1
                return request
            }
        }
        return nil
    }

    /// Opens a connection (already counted in `open`) and runs `request` on it.
    private func connect(for request: NIOHTTPRequest) {
        let remaining = request.deadline - .now()
        guard remaining > .zero else {
            connectFailed(request, NIOHTTPFailure.deadline(sent: false))
            return
        }
        let timeout = min(connectTimeout, remaining)
        let loop = group.next()
        let (tls, serverHostname) = (self.tls, self.serverHostname)
        ClientBootstrap(group: loop)
            .connectTimeout(timeout)
            .channelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    if let tls {
                        try pipeline.addHandler(NIOSSLClientHandler(context: tls, serverHostname: serverHostname))
                    }
                    try pipeline.addHTTPClientHandlers()
                    try pipeline.addHandler(
                        NIOHTTPClientHandler(pool: self, tls: tls != nil, ready: channel.eventLoop.makePromise()))
                }
            }
            .connect(host: key.host, port: key.port)
            .flatMap { channel -> EventLoopFuture<NIOHTTPConnection> in
                // On the channel's event loop.
                do {
                    let handler = try channel.pipeline.syncOperations.handler(type: NIOHTTPClientHandler.self)
                    // The TLS handshake counts as connecting: bounded by the same timeout.
                    let handshakeTimer = channel.eventLoop.scheduleTask(in: timeout) {
                        channel.pipeline.fireErrorCaught(ChannelError.connectTimeout(timeout))
                    }
                    let bound = NIOLoopBound(handler, eventLoop: channel.eventLoop)
                    return handler.ready.futureResult.map {
                        handshakeTimer.cancel()
                        let connection = NIOHTTPConnection(channel: channel, handler: bound)
                        bound.value.connection = connection
                        return connection
                    }.flatMapErrorThrowing { error in
                        handshakeTimer.cancel()
                        channel.close(promise: nil)
                        throw error
                    }
                } catch {
                    channel.close(promise: nil)
                    return channel.eventLoop.makeFailedFuture(error)
                }
            }
            .whenComplete { [self] result in
                switch result {
                case .success(let connection): established(connection, for: request)
                case .failure(let error): connectFailed(request, error)
                }
            }
    }

    private func established(_ connection: NIOHTTPConnection, for request: NIOHTTPRequest) {
        let shutDown = state.withLock { s in
            s.live[ObjectIdentifier(connection)] = connection
            return s.shutDown
        }
        connection.channel.closeFuture.whenComplete { [self] _ in connectionClosed(connection) }
        if shutDown {
            request.fail(.shutDown)
            connection.channel.close(promise: nil)
        } else {
            connection.execute(request)
        }
    }

    private func connectFailed(_ request: NIOHTTPRequest, _ error: any Error) {
        let waiter = state.withLock { s -> NIOHTTPRequest? in
            s.open -= 1
            return takeWaiterForNewConnection(&s)
        }
        if let failure = error as? NIOHTTPFailure {
            request.fail(failure)
        } else {
            request.fail(.connect(error))
        }
        // A request that waited gets its own attempt (and its own error, should the host still be unreachable).
        if let waiter { connect(for: waiter) }
    }

    /// Fails waiting requests and closes every connection; returns when they are closed.
    func shutdown() async {
        let (waiting, live) = state.withLock { s in
            s.shutDown = true
            let waiting = Array(s.waiting)
            s.waiting.removeAll()
            s.idle.removeAll()
            return (waiting, Array(s.live.values))
        }
        for request in waiting { request.fail(.shutDown) }
        for connection in live {
            try? await connection.channel.close()
        }
    }
}
