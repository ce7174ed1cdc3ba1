import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import PaymentVocabulary
import Synchronization
import Tracing

/// A minimal HTTP/1.1 client for provider POSTs, directly on SwiftNIO: the same
/// ``post(url:headers:body:provider:operation:logger:)`` as ``ProviderHTTPTransport`` (same ``TransportResponse``,
/// same ``ProviderError`` codes), without AsyncHTTPClient.
///
/// Per host (scheme, host, port) a pool of keep-alive connections, at most `timeouts.maxConnectionsPerHost`, then
/// requests queue. `timeouts.connect` bounds the TCP connect and the TLS handshake; `timeouts.request` is one
/// deadline for the whole exchange (waiting for a connection included); a body (or a `Content-Length`) over
/// `timeouts.maxResponseBytes` is `RESPONSE_TOO_LARGE`. https uses NIOSSL with `tlsConfiguration` (by default the
/// system's trust roots, the host name checked; an IP address is checked against the certificate's addresses).
/// Its I/O runs on `MultiThreadedEventLoopGroup.singleton`, the group AsyncHTTPClient uses by default.
///
/// A prototype measured against ``ProviderHTTPTransport`` (docs/benchmarks.md); the worker does not use it. Not yet:
/// - one pool shared by several transports (the runtime shares one `HTTPClient` between merchant accounts; each of
///   these transports has its own pools);
/// - an idle timeout: idle connections stay open until the server closes them (one found closed is dropped when
///   next taken), and a request written to a connection the server closes at that moment fails (`CONNECTION_ERROR`,
///   may have reached the provider) instead of going out again on a new one;
/// - logging: `logger` is not used;
/// - retrying a refused connect within the connect timeout (AsyncHTTPClient does): it fails at once;
/// - proxies, HTTP/2, redirects (not wanted), compression, `Expect: 100-continue`, chunked request bodies,
///   TLS client certificates other than through `tlsConfiguration`, an SNI override;
/// - pool metrics (open, idle, waiting);
/// - a bound on the queue of requests waiting for a connection (their deadline bounds each);
/// - the worker's end-to-end tests and `bench/ab.sh` on a worker that uses it.
/// `mayHaveReachedProvider` is `false` where AsyncHTTPClient's mapping says `true` for: a refused connect
/// (`CONNECTION_REFUSED`), a TLS handshake failure, an unusable URL, and the deadline passing while the request still
/// waited for a connection (`TIMEOUT`): none of these wrote the request.
public final class NIOHTTPTransport: Sendable {
    public let timeouts: TransportTimeouts
    /// As in ``ProviderHTTPTransport``: a client span per request and its W3C headers on the request.
    public let tracer: (any Tracer)?
    private let group: any EventLoopGroup
    private let tlsConfiguration: TLSConfiguration

    private struct State {
        /// Parsed URLs with their pool: each endpoint's URL is parsed once (bounded, like the other transport's).
        var targets: [String: (NIOHTTPEndpoint, NIOHTTPHostPool)] = [:]
        var pools: [NIOHTTPEndpoint.Key: NIOHTTPHostPool] = [:]
        var sslContext: NIOSSLContext?
        var shutDown = false
    }

    private let state = Mutex(State())
    private static let maximumTargets = 64

    public init(timeouts: TransportTimeouts = .init(), tracer: (any Tracer)? = nil,
                tlsConfiguration: TLSConfiguration = .makeClientConfiguration()) {
        self.timeouts = timeouts
        self.tracer = tracer
        self.tlsConfiguration = tlsConfiguration
        self.group = MultiThreadedEventLoopGroup.singleton
    }

    /// Closes every connection and fails requests still waiting for one (the event loops are shared and stay).
    public func shutdown() async throws {
        let pools = state.withLock { s in
            s.shutDown = true
            return Array(s.pools.values)
        }
        for pool in pools { await pool.shutdown() }
    }

    /// POSTs `body` as JSON and returns the response, whatever its status.
    /// - Throws: a transient ``ProviderError`` for timeouts and connection errors; `CancellationError` when the
    ///   calling task is cancelled (the connection is closed, nothing waits for the response).
    public func post(
        url: String,
        headers: [(String, String)],
        body: String,
        provider: Provider,
        operation: String,
        logger: Logger
    ) async throws -> TransportResponse {
        try await ProviderRequestSpan.run(tracer: tracer, provider: provider, operation: operation) { span in
            try await post(url: url, headers: headers, body: body, provider: provider, operation: operation,
                           span: span)
        }
    }

    private func post(
        url: String, headers: [(String, String)], body: String, provider: Provider, operation: String,
        span: (span: any Span, tracer: any Tracer)?
    ) async throws -> TransportResponse {
        let deadline = NIODeadline.now() + .nanoseconds(timeouts.request.nanosecondsTotal)
        let (endpoint, pool) = try target(for: url, provider: provider, operation: operation)
        let bodyBuffer = ByteBuffer(string: body)
        var requestHeaders = HTTPHeaders()
        requestHeaders.reserveCapacity(headers.count + 4)
        requestHeaders.add(name: "Host", value: endpoint.hostHeader)
        requestHeaders.add(name: "Content-Type", value: "application/json")
        for (name, value) in headers { requestHeaders.add(name: name, value: value) }
        if let span { span.tracer.inject(span.span.context, into: &requestHeaders, using: HTTPHeadersInjector()) }
        requestHeaders.replaceOrAdd(name: "Content-Length", value: String(bodyBuffer.readableBytes))
        let request = NIOHTTPRequest(
            head: HTTPRequestHead(version: .http1_1, method: .POST, uri: endpoint.target, headers: requestHeaders),
            body: bodyBuffer, deadline: deadline, maxResponseBytes: timeouts.maxResponseBytes, provider: provider,
            operation: operation)
        return try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { continuation in
                request.install(continuation)
                // Cancelled before it started: resumed already, nothing to send.
                if !request.isFinished { pool.dispatch(request) }
            }
        } onCancel: {
            request.cancel()
        }
    }

    /// The parsed URL and its host's pool (made on first use).
    private func target(for url: String, provider: Provider, operation: String) throws
        -> (NIOHTTPEndpoint, NIOHTTPHostPool)
    {
        if let cached = state.withLock({ $0.targets[url] }) { return cached }
        let endpoint: NIOHTTPEndpoint
        do {
            endpoint = try NIOHTTPEndpoint(url: url)
        } catch {
            throw ProviderError(provider: provider, operation: operation, errorClass: .transient,
                                code: .connectionError, message: "not a usable http(s) URL (nothing was sent)")
        }
        return try state.withLock { s -> (NIOHTTPEndpoint, NIOHTTPHostPool) in
            if s.shutDown {
                throw Self.providerError(.shutDown, provider: provider, operation: operation)
            }
            let pool: NIOHTTPHostPool
            if let existing = s.pools[endpoint.key] {
                pool = existing
            } else {
                var sslContext: NIOSSLContext?
                if endpoint.key.tls {
                    do {
                        sslContext = try s.sslContext ?? NIOSSLContext(configuration: tlsConfiguration)
                        s.sslContext = sslContext
                    } catch {
                        throw ProviderError(
                            provider: provider, operation: operation, errorClass: .transient, code: .connectionError,
                            message: "TLS could not be set up (nothing was sent)")
                    }
                }
                pool = NIOHTTPHostPool(
                    key: endpoint.key, maxConnections: timeouts.maxConnectionsPerHost, connectTimeout: timeouts.connect,
                    group: group, tls: sslContext, serverHostname: endpoint.hostIsIPAddress ? nil : endpoint.key.host)
                s.pools[endpoint.key] = pool
            }
            if s.targets.count < Self.maximumTargets { s.targets[url] = (endpoint, pool) }
            return (endpoint, pool)
        }
    }

    /// The ``ProviderError`` of a failure: the codes of ``ProviderHTTPTransport``'s mapping (A4), with
    /// `mayHaveReachedProvider` false only when the request was certainly not written to a connection.
    static func providerError(_ failure: NIOHTTPFailure, provider: Provider, operation: String) -> ProviderError {
        func error(_ code: ProviderError.Code, _ message: String, reached: Bool) -> ProviderError {
            ProviderError(provider: provider, operation: operation, errorClass: .transient, code: code,
                          message: message, mayHaveReachedProvider: reached)
        }
        switch failure {
        case .deadline(sent: true):
            return error(.timeout, "no complete response (the request may have reached the provider)", reached: true)
        case .deadline(sent: false):
            return error(.timeout, "no connection within the request timeout (the request was not sent)",
                         reached: false)
        case .responseTooLarge:
            return error(
                .responseTooLarge,
                "the response body exceeded the transport's maxResponseBytes (the request reached the provider)",
                reached: true)
        case .connection(_, let sent):
            let message = sent
                ? "no complete response (the request may have reached the provider)" : "could not connect"
            return error(.connectionError, message, reached: sent)
        case .connect(let underlying):
            if underlying is NIOConnectionError {
                return error(.connectionRefused, "could not connect", reached: false)
            }
            if let e = underlying as? ChannelError, case .connectTimeout = e {
                return error(.connectTimeout, "could not connect", reached: false)
            }
            return error(.connectionError, "could not connect", reached: false)
        case .shutDown:
            return error(.connectionError, "the transport was shut down (the request was not sent)", reached: false)
        }
    }
}
