import NIOCore
import NIOPosix
import NIOSSL
import PaymentVocabulary
import Synchronization

/// The connections ``NIOHTTPTransport``s share: per host (scheme, host, port) one pool of keep-alive HTTP/1.1
/// connections, the TLS context, and their lifecycle. One serves every merchant account of every provider (the
/// runtime makes one, as it made one `HTTPClient`); each account's ``NIOHTTPTransport`` refers to it with its own
/// request deadline and response bound. Whoever makes it calls ``shutdown()`` once, after the last request.
///
/// Connections are opened on demand, at most ``Configuration/maxConnectionsPerHost`` per host (then requests wait),
/// and closed when the server closes them, after a failed exchange, on `Connection: close`, and after
/// ``Configuration/idleTimeout`` unused (see ``NIOHTTPHostPool``). A host name is looked up before a connection is
/// opened, bounded by the request's deadline rather than by the connect timeout (see ``NIOHTTPNameResolution``).
public final class NIOHTTPClient: Sendable {
    /// What is the same for every request: connections, TLS, the bounds on what a server may send before the body.
    public struct Configuration: Sendable {
        /// TCP connect and TLS handshake, each new connection (at most the request's remaining deadline); the host
        /// name's lookup before it is bounded by the deadline alone. Default 2 s.
        public var connectTimeout: Duration
        /// Connections open at once per host; more requests wait for one. Default 256.
        public var maxConnectionsPerHost: Int
        /// A keep-alive connection unused this long is closed and never reused. Default 60 s (AsyncHTTPClient's
        /// setting in ``ProviderHTTPTransport/makeClient(timeouts:)``). Keep it below the providers' own keep-alive
        /// timeout: a server that closes first can race a request written at that moment (then the request fails
        /// as `CONNECTION_ERROR` that may have reached the provider; see ``NIOHTTPTransport``).
        public var idleTimeout: Duration
        /// The largest response head accepted: a single header line, and all header names and values together
        /// (NIO's `HTTPResponseDecoder` limits). More is `RESPONSE_TOO_LARGE`, may have reached the provider.
        /// Default 80 KiB (NIO's default, made explicit).
        public var maxResponseHeadBytes: Int
        /// https: trust roots, client certificate, … Default: the system's trust roots, the host name checked (an IP
        /// address against the certificate's addresses).
        public var tlsConfiguration: TLSConfiguration
        /// A host name lookup, or a connect (TCP and TLS), that takes this long or longer is logged at info with its
        /// duration (`provider host lookup slow`, `provider connect slow`): the time a request spent before it was
        /// written is otherwise invisible. Default 1 s.
        public var slowSetupThreshold: Duration
        /// A host name lookup unanswered this long gets another one beside it, up to three at once; the first
        /// answer is used (see ``NIOHTTPHostLookup``). Default 1 s.
        public var lookupHedgeDelay: Duration

        public init(
            connectTimeout: Duration = .seconds(2), maxConnectionsPerHost: Int = 256, idleTimeout: Duration = .seconds(60),
            maxResponseHeadBytes: Int = 80 * 1024, tlsConfiguration: TLSConfiguration = .makeClientConfiguration(),
            slowSetupThreshold: Duration = .seconds(1), lookupHedgeDelay: Duration = .seconds(1)
        ) {
            self.connectTimeout = connectTimeout
            self.maxConnectionsPerHost = maxConnectionsPerHost
            self.idleTimeout = idleTimeout
            self.maxResponseHeadBytes = maxResponseHeadBytes
            self.tlsConfiguration = tlsConfiguration
            self.slowSetupThreshold = slowSetupThreshold
            self.lookupHedgeDelay = lookupHedgeDelay
        }

        /// `timeouts.connect` and `timeouts.maxConnectionsPerHost`, the rest default.
        public init(timeouts: TransportTimeouts) {
            self.init(connectTimeout: timeouts.connect, maxConnectionsPerHost: timeouts.maxConnectionsPerHost)
        }
    }

    public let configuration: Configuration
    let group: any EventLoopGroup
    /// How host names become addresses (the system's resolver; tests give their own).
    let nameResolution: NIOHTTPNameResolution

    private struct State {
        /// Parsed URLs with their pool: each endpoint's URL is parsed once. Bounded, because URLs with ids in the
        /// path would grow it without end; the clients' URLs are a few per account.
        var targets: [String: Target] = [:]
        var pools: [NIOHTTPEndpoint.Key: NIOHTTPHostPool] = [:]
        var sslContext: NIOSSLContext?
        var shutDown = false
    }

    typealias Target = (endpoint: NIOHTTPEndpoint, pool: NIOHTTPHostPool)

    private let state = Mutex(State())
    private static let maximumTargets = 512

    /// - Parameter eventLoopGroup: where the connections live; default `MultiThreadedEventLoopGroup.singleton`
    ///   (AsyncHTTPClient's default group too). It is not shut down with the client.
    public convenience init(configuration: Configuration = .init(),
                            eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.init(configuration: configuration, eventLoopGroup: eventLoopGroup, nameResolution: .system)
    }

    init(configuration: Configuration = .init(),
         eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
         nameResolution: NIOHTTPNameResolution) {
        self.configuration = configuration
        self.group = eventLoopGroup
        self.nameResolution = nameResolution
    }

    /// Fails requests still waiting for a connection, closes every connection, and refuses new requests
    /// (`CONNECTION_ERROR`, not sent). Returns when the connections are closed.
    public func shutdown() async {
        let pools = state.withLock { s in
            s.shutDown = true
            return Array(s.pools.values)
        }
        for pool in pools { await pool.shutdown() }
    }

    /// The parsed URL and its host's pool (made on first use).
    func target(for url: String, provider: Provider, operation: String) throws -> Target {
        if let cached = state.withLock({ $0.targets[url] }) { return cached }
        let endpoint: NIOHTTPEndpoint
        do {
            endpoint = try NIOHTTPEndpoint(url: url)
        } catch {
            throw ProviderError(provider: provider, operation: operation, errorClass: .transient,
                                code: .connectionError, message: "not a usable http(s) URL (nothing was sent)")
        }
        return try state.withLock { s -> Target in
            if s.shutDown {
                throw NIOHTTPTransport.providerError(.shutDown, provider: provider, operation: operation)
            }
            let pool: NIOHTTPHostPool
            if let existing = s.pools[endpoint.key] {
                pool = existing
            } else {
                var sslContext: NIOSSLContext?
                if endpoint.key.tls {
                    do {
                        sslContext = try s.sslContext ?? NIOSSLContext(configuration: configuration.tlsConfiguration)
                        s.sslContext = sslContext
                    } catch {
                        throw ProviderError(
                            provider: provider, operation: operation, errorClass: .transient, code: .connectionError,
                            message: "TLS could not be set up (nothing was sent)")
                    }
                }
                pool = NIOHTTPHostPool(
                    key: endpoint.key, configuration: configuration, group: group, tls: sslContext,
                    serverHostname: endpoint.hostIsIPAddress ? nil : endpoint.key.host, nameResolution: nameResolution)
                s.pools[endpoint.key] = pool
            }
            if s.targets.count < Self.maximumTargets { s.targets[url] = (endpoint, pool) }
            return (endpoint, pool)
        }
    }
}

/// The log metadata keys of the NIO transport's debug lines (connections opened, closed, failed, closed idle).
/// They name the host and port only: never a path, a query, a header or a body.
enum NIOHTTPLoggingKeys {
    /// `host:port` of the provider connection.
    static let peer = "paybridge.http.peer"
    /// Why a connection closed or could not be opened.
    static let reason = "paybridge.http.reason"
    /// How long a connection closed as idle had been unused, in milliseconds.
    static let idleMilliseconds = "paybridge.http.idle_ms"
    /// How many requests a connection served.
    static let requests = "paybridge.http.requests"
    /// How long a slow host name lookup or connect took, in milliseconds.
    static let durationMilliseconds = "paybridge.http.duration_ms"
    /// How a slow lookup or connect ended: `ok`, or why it failed.
    static let outcome = "paybridge.http.outcome"
    /// How many lookups a slow host name lookup took (see ``NIOHTTPHostLookup``).
    static let lookups = "paybridge.http.lookups"

    /// `ok`, or the error's description.
    static func outcome<Value>(of result: Result<Value, any Error>) -> String {
        switch result {
        case .success: "ok"
        case .failure(let error): "\(error)"
        }
    }
}
