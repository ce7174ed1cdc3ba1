public import AsyncHTTPClient
import Logging
import PaymentVocabulary
import Tracing
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// Timeouts of provider calls.
public struct TransportTimeouts: Sendable, Hashable {
    /// TCP (and TLS) connection establishment. Default 2 s.
    public var connect: Duration
    /// Whole request: from sending until the full response body arrived. Default 10 s.
    public var request: Duration
    /// Largest response body accepted. Default 1 MiB.
    public var maxResponseBytes: Int
    /// HTTP/1.1 connections kept per provider host (AsyncHTTPClient's soft limit). With a 100 ms provider this
    /// caps throughput at about 10 × this many requests per second. Default 256.
    public var maxConnectionsPerHost: Int

    public init(
        connect: Duration = .seconds(2),
        request: Duration = .seconds(10),
        maxResponseBytes: Int = 1 << 20,
        maxConnectionsPerHost: Int = 256
    ) {
        self.connect = connect
        self.request = request
        self.maxResponseBytes = maxResponseBytes
        self.maxConnectionsPerHost = maxConnectionsPerHost
    }
}

/// A response as received: status, headers and the whole body.
public struct TransportResponse: Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(status: Int, headers: [(name: String, value: String)], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The first header with this name (case-insensitive).
    public func header(_ name: String) -> String? {
        let lower = name.lowercased()
        return headers.first(where: { $0.name.lowercased() == lower })?.value
    }

    /// The body as UTF-8 text.
    public var bodyText: String { String(decoding: body, as: UTF8.self) }

    /// `Retry-After` in seconds, when present and numeric.
    public var retryAfter: Duration? {
        guard let v = header("Retry-After")?.trimmingSpaces, let seconds = Int(v), seconds >= 0 else { return nil }
        return .seconds(seconds)
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while s.first == " " { s.removeFirst() }
        while s.last == " " { s.removeLast() }
        return String(s)
    }
}

/// HTTP POSTs to a provider over AsyncHTTPClient, with connect and request timeouts, mapping every
/// network failure to a transient ``ProviderError`` (A4).
public final class ProviderHTTPTransport: Sendable {
    public let timeouts: TransportTimeouts
    /// Starts a client span per request (a child of the task's `ServiceContext.current`) and puts its W3C
    /// `traceparent`/`tracestate` on the request; `nil`: neither.
    public let tracer: (any Tracer)?
    private let client: HTTPClient
    private let ownsClient: Bool
    /// A header-less, body-less POST per URL: AsyncHTTPClient parses the URL when a request is made, so each
    /// endpoint's URL is parsed once. Bounded, because URLs with ids in the path would grow it without end.
    private let templates = Mutex<[String: HTTPClient.Request]>([:])
    private static let maximumTemplates = 64

    /// Creates a transport with its own `HTTPClient` (``makeClient(timeouts:)``). Call ``shutdown()`` when done.
    public init(timeouts: TransportTimeouts = .init(), tracer: (any Tracer)? = nil) {
        self.timeouts = timeouts
        self.tracer = tracer
        self.client = Self.makeClient(timeouts: timeouts)
        self.ownsClient = true
    }

    /// The `HTTPClient` PayBridge talks to providers with: `timeouts.connect` as the connect timeout, no redirects,
    /// no tracer, up to `timeouts.maxConnectionsPerHost` connections per host. One can serve every provider (the
    /// runtime shares one; ``init(client:timeouts:)``); whoever makes it shuts it down.
    public static func makeClient(timeouts: TransportTimeouts) -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        // No read timeout: each request's deadline already bounds the whole exchange, and a read timer would be
        // armed and re-armed on every response.
        configuration.timeout = .init(connect: .nanoseconds(timeouts.connect.nanosecondsTotal))
        // PayBridge bootstraps no tracer; without this AsyncHTTPClient starts a (no-op) span per request.
        configuration.tracing.tracer = nil
        configuration.redirectConfiguration = .disallow
        configuration.connectionPool = .init(
            idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: timeouts.maxConnectionsPerHost)
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }

    /// Uses an existing client (its own connect timeout applies); ``shutdown()`` leaves it running.
    public init(client: HTTPClient, timeouts: TransportTimeouts = .init(), tracer: (any Tracer)? = nil) {
        self.timeouts = timeouts
        self.tracer = tracer
        self.client = client
        self.ownsClient = false
    }

    /// Shuts the owned client down.
    public func shutdown() async throws {
        if ownsClient { try await client.shutdown() }
    }

    /// POSTs `body` as JSON and returns the response, whatever its status.
    /// - Throws: a transient ``ProviderError`` for timeouts and connection errors.
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
                           span: span, logger: logger)
        }
    }

    private func post(
        url: String, headers: [(String, String)], body: String, provider: Provider, operation: String,
        span: (span: any Span, tracer: any Tracer)?, logger: Logger
    ) async throws -> TransportResponse {
        let deadline = NIODeadline.now() + .nanoseconds(timeouts.request.nanosecondsTotal)
        do {
            var requestHeaders = HTTPHeaders()
            requestHeaders.reserveCapacity(headers.count + 1)
            requestHeaders.add(name: "Content-Type", value: "application/json")
            for (name, value) in headers { requestHeaders.add(name: name, value: value) }
            if let span { span.tracer.inject(span.span.context, into: &requestHeaders, using: HTTPHeadersInjector()) }
            var request = try template(for: url)
            request.headers = requestHeaders
            request.body = .byteBuffer(ByteBuffer(string: body))
            // The whole response is collected on the event loop and handed over once (one thread hop per request;
            // the streaming async API costs one per body part too). AsyncHTTPClient logs at debug and trace only,
            // and tags its logger per request: it gets ours only when those lines would be written.
            let task = client.execute(
                request: request, delegate: ResponseAccumulator(request: request, maxBodySize: timeouts.maxResponseBytes),
                eventLoop: .indifferent, deadline: deadline,
                logger: logger.logLevel <= .debug ? logger : Self.silent)
            let response = try await withTaskCancellationHandler {
                try await task.futureResult.get()
            } onCancel: {
                task.cancel()
            }
            return TransportResponse(
                status: Int(response.status.code),
                headers: response.headers.map { (name: $0.name, value: $0.value) },
                body: response.body.map { Array($0.readableBytesView) } ?? [])
        } catch let error as CancellationError {
            throw error
        } catch {
            if Task.isCancelled { throw CancellationError() }
            throw Self.mapNetworkError(error, provider: provider, operation: operation)
        }
    }

    private func template(for url: String) throws -> HTTPClient.Request {
        if let cached = templates.withLock({ $0[url] }) { return cached }
        let request = try HTTPClient.Request(url: url, method: .POST)
        templates.withLock { if $0.count < Self.maximumTemplates { $0[url] = request } }
        return request
    }

    /// What AsyncHTTPClient gets as its logger while ours is above debug: nothing to write, nothing to tag.
    private static let silent = Logger(label: "paybridge.http", factory: { _ in SwiftLogNoOpLogHandler() })

    /// Maps a network error to a transient error, telling whether the request may have reached the provider.
    static func mapNetworkError(_ error: any Error, provider: Provider, operation: String) -> ProviderError {
        var code = ProviderError.Code.connectionError
        var reached = true
        if error is ResponseAccumulator.ResponseTooBigError {
            return ProviderError(
                provider: provider, operation: operation, errorClass: .transient, code: .responseTooLarge,
                message: "the response body exceeded the transport's maxResponseBytes (the request reached the provider)",
                mayHaveReachedProvider: true)
        }
        if let e = error as? HTTPClientError {
            switch e {
            case .connectTimeout, .getConnectionFromPoolTimeout:
                code = .connectTimeout
                reached = false
            case .deadlineExceeded, .readTimeout, .writeTimeout:
                code = .timeout
            default:
                code = .connectionError
            }
        } else if error is NIOConnectionError {
            code = .connectionRefused
            reached = false
        } else if let e = error as? ChannelError, case .connectTimeout = e {
            code = .connectTimeout
            reached = false
        }
        return ProviderError(
            provider: provider, operation: operation, errorClass: .transient, code: code,
            message: reached ? "no complete response (the request may have reached the provider)" : "could not connect",
            mayHaveReachedProvider: reached)
    }
}


/// Puts W3C trace headers on a provider request.
package struct HTTPHeadersInjector: Injector {
    package init() {}

    package func inject(_ value: String, forKey key: String, into carrier: inout HTTPHeaders) {
        carrier.replaceOrAdd(name: key, value: value)
    }
}
