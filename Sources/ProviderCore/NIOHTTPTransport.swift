import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import PaymentVocabulary
import Tracing

/// HTTP/1.1 POSTs to a provider directly on SwiftNIO, over a shared ``NIOHTTPClient``: the same
/// ``post(url:headers:body:provider:operation:logger:)`` as ``ProviderHTTPTransport`` (same ``TransportResponse``,
/// same ``ProviderError`` codes), without AsyncHTTPClient. What the worker uses unless
/// `PAYBRIDGE_HTTP_TRANSPORT=asynchttpclient` (docs/benchmarks-budget.md: about 60 µs of CPU less per request).
///
/// `timeouts.request` is one deadline for the whole exchange (waiting for a connection included); a body (or a
/// `Content-Length`) over `timeouts.maxResponseBytes` is `RESPONSE_TOO_LARGE`. Connections, their connect timeout,
/// their number per host, the idle timeout, the response-head bound and TLS are the client's
/// (``NIOHTTPClient/Configuration``): `timeouts.connect` and `timeouts.maxConnectionsPerHost` apply only to a
/// transport made with its own client (``init(timeouts:tracer:tlsConfiguration:)``).
///
/// **A connection the server closed while idle** never fails a request and never sends one twice. A pooled
/// connection is reused only if it is open, was used less than the idle timeout ago, and its channel is still
/// active when the request is about to be written. When writing on a reused connection fails before any byte of
/// the request reached the socket, the request goes out once more, on a new connection: the connection's socket
/// writes at most once per flush (NIO's `writeSpinCount` is 0), so a failure inside the flush that wrote the request
/// proves the one write call failed and wrote nothing. Once any byte may have been written the transport never
/// sends again: it is `CONNECTION_ERROR` with `mayHaveReachedProvider` true, and the client decides (a create
/// reads the payment's status before it would send again). A server that closes an idle connection just as a
/// request is written to it can still cause that (the request's bytes are in the socket before the close
/// arrives); the idle timeout, shorter than the provider's, keeps it rare.
///
/// `mayHaveReachedProvider` is `false` where AsyncHTTPClient's mapping says `true` for: a refused connect
/// (`CONNECTION_REFUSED`), a TLS handshake failure, an unusable URL, and the deadline passing while the request still
/// waited for a connection (`TIMEOUT`): none of these wrote the request.
///
/// Not supported: proxies, HTTP/2, redirects (not wanted), compression, `Expect: 100-continue`, chunked request
/// bodies, an SNI override, TLS client certificates other than through the client's `tlsConfiguration`, retrying a
/// refused connect within the connect timeout (AsyncHTTPClient does; this fails at once), pool metrics (open, idle,
/// waiting), and a bound on the queue of requests waiting for a connection (their deadline bounds each).
///
/// Logging: the `logger` of a request gets debug lines when its request opens a connection or cannot, and the
/// connection's later life (closed by the server, closed idle, closed after a failure) is logged with the logger
/// of the request that opened it; they name `host:port` only (``NIOHTTPLoggingKeys``).
public final class NIOHTTPTransport: Sendable {
    public let timeouts: TransportTimeouts
    /// As in ``ProviderHTTPTransport``: a client span per request and its W3C headers on the request.
    public let tracer: (any Tracer)?
    public let client: NIOHTTPClient
    private let ownsClient: Bool

    /// A transport over a shared client (``NIOHTTPClient``); ``shutdown()`` leaves the client running.
    public init(client: NIOHTTPClient, timeouts: TransportTimeouts = .init(), tracer: (any Tracer)? = nil) {
        self.client = client
        self.timeouts = timeouts
        self.tracer = tracer
        self.ownsClient = false
    }

    /// A transport with a client of its own (`timeouts.connect`, `timeouts.maxConnectionsPerHost`, `tlsConfiguration`,
    /// the other settings default); ``shutdown()`` closes it.
    public init(timeouts: TransportTimeouts = .init(), tracer: (any Tracer)? = nil,
                tlsConfiguration: TLSConfiguration = .makeClientConfiguration()) {
        var configuration = NIOHTTPClient.Configuration(timeouts: timeouts)
        configuration.tlsConfiguration = tlsConfiguration
        self.client = NIOHTTPClient(configuration: configuration)
        self.timeouts = timeouts
        self.tracer = tracer
        self.ownsClient = true
    }

    /// Shuts the client down when this transport made it.
    public func shutdown() async throws {
        if ownsClient { await client.shutdown() }
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
            let (request, pool) = try prepare(
                url: url, headers: headers, body: body, provider: provider, operation: operation, logger: logger,
                span: span)
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
    }

    /// The request as it will be written, and its host's pool: ``post(url:headers:body:provider:operation:logger:)``
    /// dispatches it (tests dispatch it themselves to choose the thread).
    func prepare(
        url: String, headers: [(String, String)], body: String, provider: Provider, operation: String,
        logger: Logger, span: ProviderRequestSpan.Current? = nil
    ) throws -> (NIOHTTPRequest, NIOHTTPHostPool) {
        let deadline = NIODeadline.now() + .nanoseconds(timeouts.request.nanosecondsTotal)
        let (endpoint, pool) = try client.target(for: url, provider: provider, operation: operation)
        var bytes = NIOHTTPRequestBytes(target: endpoint.target, host: endpoint.hostHeader, bodyBytes: body.utf8.count)
        for (name, value) in headers { bytes.add(name: name, value: value) }
        if let span { span.tracer.inject(span.span.context, into: &bytes, using: NIOHTTPRequestBytesInjector()) }
        let request: NIOHTTPRequest
        do {
            request = NIOHTTPRequest(
                bytes: try bytes.finish(body: body), deadline: deadline, maxResponseBytes: timeouts.maxResponseBytes,
                provider: provider, operation: operation, logger: logger)
        } catch {
            throw ProviderError(provider: provider, operation: operation, errorClass: .transient,
                                code: .connectionError, message: "\(error) (nothing was sent)")
        }
        return (request, pool)
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
        case .responseHeadTooLarge(let limit):
            return error(
                .responseTooLarge,
                "the response's header lines exceeded the transport's limit of \(limit) bytes"
                    + " (the request reached the provider)",
                reached: true)
        case .connection(_, let sent):
            let message = sent
                ? "no complete response (the request may have reached the provider)"
                : "the connection failed before the request was written (the request was not sent)"
            return error(.connectionError, message, reached: sent)
        case .connect(let underlying):
            if let lookup = underlying as? NIOHTTPNameResolution.TimedOut {
                return error(.connectTimeout, "\(lookup) (the request was not sent)", reached: false)
            }
            if let lookup = underlying as? NIOHTTPNameResolution.LookupFailed {
                return error(.connectionError, "could not resolve \(lookup.host) (the request was not sent)",
                             reached: false)
            }
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
