import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

/// The keep-alive connections of one ``NIOHTTPClient`` to one host (scheme, host, port): at most
/// `maxConnectionsPerHost` open. A request takes the most recently used idle connection, else opens a new one while
/// fewer are open, else waits in a queue; a connection that finishes a response serves the first waiting request
/// directly on its event loop.
///
/// **Idle timeout.** A connection that goes idle is stamped with the time (one clock read, under the lock that
/// keeps the idle list in that order). No timer is armed per request: one task per pool, scheduled only while
/// connections are idle, wakes when the oldest of them reaches `idleTimeout` and closes every connection unused
/// that long; a connection past it is never taken for a request, even before that task ran.
final class NIOHTTPHostPool: Sendable {
    let key: NIOHTTPEndpoint.Key
    /// `host:port`, for the log lines.
    let peer: String
    private let maxConnections: Int
    private let connectTimeout: TimeAmount
    private let idleTimeout: TimeAmount
    private let slowSetupThreshold: TimeAmount
    private let maxResponseHeadBytes: Int
    private let group: any EventLoopGroup
    private let tls: NIOSSLContext?
    private let serverHostname: String?
    /// The host name's lookups (unused for an IP address literal).
    private let lookup: NIOHTTPHostLookup
    /// The host, when it is an IP address literal (then there is nothing to look up).
    private let hostAddress: SocketAddress?

    struct IdleConnection {
        var connection: NIOHTTPConnection
        /// When it went idle.
        var since: NIODeadline
    }

    private struct State {
        /// Oldest first (stamped under the lock, so in order).
        var idle: [IdleConnection] = []
        /// Connections open or being opened.
        var open = 0
        var waiting = CircularBuffer<NIOHTTPRequest>()
        var live: [ObjectIdentifier: NIOHTTPConnection] = [:]
        /// The task that closes idle connections, while one is scheduled.
        var sweep: Scheduled<Void>?
        var sweepScheduled = false
        var shutDown = false
    }

    private let state = Mutex(State())

    init(key: NIOHTTPEndpoint.Key, configuration: NIOHTTPClient.Configuration, group: any EventLoopGroup,
         tls: NIOSSLContext?, serverHostname: String?, nameResolution: NIOHTTPNameResolution = .system) {
        self.key = key
        self.peer = key.host.contains(":") ? "[\(key.host)]:\(key.port)" : "\(key.host):\(key.port)"
        self.maxConnections = max(1, configuration.maxConnectionsPerHost)
        self.connectTimeout = .nanoseconds(configuration.connectTimeout.nanosecondsTotal)
        self.idleTimeout = .nanoseconds(max(configuration.idleTimeout.nanosecondsTotal, 1))
        self.slowSetupThreshold = .nanoseconds(configuration.slowSetupThreshold.nanosecondsTotal)
        self.maxResponseHeadBytes = configuration.maxResponseHeadBytes
        self.group = group
        self.tls = tls
        self.serverHostname = serverHostname
        self.lookup = NIOHTTPHostLookup(
            host: key.host, port: key.port, peer: peer, resolution: nameResolution,
            hedgeDelay: configuration.lookupHedgeDelay, slowThreshold: configuration.slowSetupThreshold)
        self.hostAddress = try? SocketAddress(ipAddress: key.host, port: key.port)
    }

    private enum Next {
        case run(NIOHTTPConnection)
        case connect
        case queued
        case shutDown
    }

    /// Finds or makes a connection for `request` (any thread). `reuse: false`: not an idle one (the request's
    /// last connection turned out closed before it was written; it goes out on a new one, or on one that just
    /// finished a response when it has to wait).
    func dispatch(_ request: NIOHTTPRequest, reuse: Bool = true) {
        var expired: [IdleConnection] = []
        let now = NIODeadline.now()
        let next = state.withLock { s -> Next in
            if s.shutDown { return .shutDown }
            if reuse, let newest = s.idle.last {
                if now - newest.since >= idleTimeout {
                    // The newest is past the idle timeout, so all are: none is reused.
                    swap(&expired, &s.idle)
                } else {
                    while let candidate = s.idle.popLast() {
                        // One that closed while idle is dropped here; its close callback does the bookkeeping.
                        if candidate.connection.channel.isActive { return .run(candidate.connection) }
                    }
                }
            }
            if s.open < maxConnections {
                s.open += 1
                return .connect
            }
            s.waiting.append(request)
            return .queued
        }
        for entry in expired { entry.connection.closeIdle(after: now - entry.since) }
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
        let (next, shutDown, startSweep) = state.withLock { s -> (NIOHTTPRequest?, Bool, Bool) in
            if s.shutDown { return (nil, true, false) }
            while let request = s.waiting.popFirst() {
                if !request.isFinished { return (request, false, false) }
            }
            s.idle.append(IdleConnection(connection: connection, since: .now()))
            guard !s.sweepScheduled else { return (nil, false, false) }
            s.sweepScheduled = true
            return (nil, false, true)
        }
        if let next {
            connection.execute(next)
        } else if shutDown {
            connection.close(.shutDown)
        } else if startSweep {
            scheduleSweep(at: .now() + idleTimeout)
        }
    }

    private func scheduleSweep(at deadline: NIODeadline) {
        let task = group.next().scheduleTask(deadline: deadline) { [weak self] () -> Void in self?.sweep() }
        let cancel = state.withLock { s -> Bool in
            if s.shutDown { return true }
            s.sweep = task
            return false
        }
        if cancel { task.cancel() }
    }

    /// Closes the connections idle for `idleTimeout` or longer; runs again when the oldest left would reach it.
    private func sweep() {
        let now = NIODeadline.now()
        let (expired, next) = state.withLock { s -> ([IdleConnection], NIODeadline?) in
            guard !s.shutDown else { return ([], nil) }
            let count = s.idle.firstIndex(where: { now - $0.since < idleTimeout }) ?? s.idle.count
            let expired = Array(s.idle.prefix(count))
            s.idle.removeFirst(count)
            guard let oldest = s.idle.first else {
                s.sweepScheduled = false
                s.sweep = nil
                return (expired, nil)
            }
            return (expired, oldest.since + idleTimeout)
        }
        for entry in expired { entry.connection.closeIdle(after: now - entry.since) }
        if let next { scheduleSweep(at: next) }
    }

    private func connectionClosed(_ connection: NIOHTTPConnection) {
        let waiter = state.withLock { s -> NIOHTTPRequest? in
            s.open -= 1
            s.live[ObjectIdentifier(connection)] = nil
            if let index = s.idle.firstIndex(where: { $0.connection === connection }) { s.idle.remove(at: index) }
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

    /// Opens a connection (already counted in `open`) and runs `request` on it: first the host's addresses (see
    /// ``NIOHTTPHostLookup``), then the TCP connect and TLS handshake, bounded by the connect timeout.
    private func connect(for request: NIOHTTPRequest) {
        guard request.deadline > .now() else {
            connectFailed(request, NIOHTTPFailure.deadline(sent: false))
            return
        }
        let loop = group.next()
        if let hostAddress {
            open(for: request, addresses: [hostAddress], on: loop)
            return
        }
        lookup.resolve(for: request, on: loop) { [self] result in
            switch result {
            case .success(let addresses): open(for: request, addresses: addresses, on: loop)
            case .failure(let error): connectFailed(request, NIOHTTPFailure.connect(error))
            }
        }
    }

    /// Connects to `addresses` (NIO's Happy Eyeballs over them) and runs `request` on the new connection.
    private func open(for request: NIOHTTPRequest, addresses: [SocketAddress], on loop: any EventLoop) {
        let remaining = request.deadline - .now()
        guard remaining > .zero else {
            connectFailed(request, NIOHTTPFailure.deadline(sent: false))
            return
        }
        let timeout = min(connectTimeout, remaining)
        let started = NIODeadline.now()
        let (tls, serverHostname, peer, logger) = (self.tls, self.serverHostname, self.peer, request.logger)
        var limits = NIOHTTPDecoderLimitConfiguration()
        limits.maxHeaderFieldSize = maxResponseHeadBytes
        limits.maxHeaderListSize = maxResponseHeadBytes
        ClientBootstrap(group: loop)
            .connectTimeout(timeout)
            .resolver(NIOHTTPNameResolution.Resolved(addresses: addresses, eventLoop: loop))
            // One write call per flush: a request whose flush failed was not written at all (see NIOHTTPTransport).
            .channelOption(.writeSpin, value: 0)
            .channelInitializer { [self, limits] channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    let socketFlushes = NIOHTTPSocketFlushes()
                    try pipeline.addHandler(socketFlushes)
                    if let tls {
                        try pipeline.addHandler(NIOSSLClientHandler(context: tls, serverHostname: serverHostname))
                    }
                    // NIO's `addHTTPClientHandlers` with the response decoder's limits set, and the request's bytes
                    // written as built (`NIOHTTPRequestBytes`) instead of through the encoder and header validator.
                    try pipeline.addHandlers([
                        NIOHTTPRequestWriter(),
                        ByteToMessageHandler(HTTPResponseDecoder(
                            leftOverBytesStrategy: .dropBytes, informationalResponseStrategy: .drop,
                            limitConfiguration: limits)),
                    ])
                    try pipeline.addHandler(NIOHTTPClientHandler(
                        pool: self, tls: tls != nil, socketFlushes: socketFlushes, ready: channel.eventLoop.makePromise(),
                        peer: peer, maxResponseHeadBytes: limits.maxHeaderListSize, logger: logger))
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
                logIfSlow(since: started, result: result, logger: logger)
                switch result {
                case .success(let connection): established(connection, for: request)
                case .failure(let error): connectFailed(request, error)
                }
            }
    }

    /// An info line when a connect (TCP and TLS) took ``NIOHTTPClient/Configuration/slowSetupThreshold`` or longer.
    private func logIfSlow(since started: NIODeadline, result: Result<NIOHTTPConnection, any Error>, logger: Logger) {
        let took = NIODeadline.now() - started
        guard took >= slowSetupThreshold else { return }
        logger.info("provider connect slow", metadata: [
            NIOHTTPLoggingKeys.peer: "\(peer)",
            NIOHTTPLoggingKeys.durationMilliseconds: "\(took.nanoseconds / 1_000_000)",
            NIOHTTPLoggingKeys.outcome: "\(NIOHTTPLoggingKeys.outcome(of: result))",
        ])
    }

    private func established(_ connection: NIOHTTPConnection, for request: NIOHTTPRequest) {
        let shutDown = state.withLock { s in
            s.live[ObjectIdentifier(connection)] = connection
            return s.shutDown
        }
        request.logger.debug("provider connection opened", metadata: [NIOHTTPLoggingKeys.peer: "\(peer)"])
        connection.channel.closeFuture.whenComplete { [self] _ in connectionClosed(connection) }
        if shutDown {
            request.fail(.shutDown)
            connection.close(.shutDown)
        } else {
            connection.execute(request)
        }
    }

    private func connectFailed(_ request: NIOHTTPRequest, _ error: any Error) {
        let waiter = state.withLock { s -> NIOHTTPRequest? in
            s.open -= 1
            return takeWaiterForNewConnection(&s)
        }
        let failure = error as? NIOHTTPFailure ?? .connect(error)
        request.logger.debug("provider connection failed", metadata: [
            NIOHTTPLoggingKeys.peer: "\(peer)", NIOHTTPLoggingKeys.reason: "\(error)",
        ])
        request.fail(failure)
        // A request that waited gets its own attempt (and its own error, should the host still be unreachable).
        if let waiter { connect(for: waiter) }
    }

    /// Fails waiting requests and closes every connection; returns when they are closed.
    func shutdown() async {
        let (waiting, live, sweep) = state.withLock { s in
            s.shutDown = true
            let waiting = Array(s.waiting)
            s.waiting.removeAll()
            s.idle.removeAll()
            defer { s.sweep = nil }
            return (waiting, Array(s.live.values), s.sweep)
        }
        sweep?.cancel()
        for request in waiting { request.fail(.shutDown) }
        for connection in live {
            connection.close(.shutDown)
            try? await connection.channel.closeFuture.get()
        }
    }
}
