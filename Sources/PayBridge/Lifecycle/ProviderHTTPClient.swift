import AsyncHTTPClient
import ProviderCore
import ServiceLifecycle
import Tracing

/// `PAYBRIDGE_HTTP_TRANSPORT`: which HTTP client PayBridge calls the providers with.
public enum ProviderHTTPTransportKind: String, Sendable, CaseIterable {
    /// ``NIOHTTPTransport`` over one ``NIOHTTPClient``: the default.
    case nio
    /// ``ProviderHTTPTransport`` over one AsyncHTTPClient `HTTPClient`: the transport before, kept for one release
    /// as a fallback.
    case asyncHTTPClient = "asynchttpclient"

    /// What the worker uses when `PAYBRIDGE_HTTP_TRANSPORT` is not set.
    public static let `default` = ProviderHTTPTransportKind.nio
}

/// The one HTTP client every provider client of a process shares (as the runtime shared one `HTTPClient`), of
/// the configured kind, and a transport over it per merchant account, with that account's request deadline and
/// response bound. As a `Service` it closes the client when the group shuts down, after the services listed after
/// it (workers, listeners) have stopped using it.
public struct ProviderHTTPClient: Service, Sendable {
    private enum Client: Sendable {
        case nio(NIOHTTPClient)
        case asyncHTTPClient(HTTPClient)
    }

    public let kind: ProviderHTTPTransportKind
    private let client: Client

    /// A client of `kind`: `timeouts.connect` for every connection, up to `timeouts.maxConnectionsPerHost` per host;
    /// idle connections close after 60 s.
    public init(kind: ProviderHTTPTransportKind, timeouts: TransportTimeouts) {
        self.kind = kind
        switch kind {
        case .nio: client = .nio(NIOHTTPClient(configuration: .init(timeouts: timeouts)))
        case .asyncHTTPClient: client = .asyncHTTPClient(ProviderHTTPTransport.makeClient(timeouts: timeouts))
        }
    }

    /// One client for every account: the shortest connect timeout of `timeouts` and the largest pool.
    public init(kind: ProviderHTTPTransportKind, sharedBy timeouts: [TransportTimeouts]) {
        var shared = TransportTimeouts()
        if let first = timeouts.first {
            shared = first
            shared.connect = timeouts.map(\.connect).min()!
            shared.maxConnectionsPerHost = timeouts.map(\.maxConnectionsPerHost).max()!
        }
        self.init(kind: kind, timeouts: shared)
    }

    /// A transport for one merchant account over this client: its request deadline and response bound.
    public func transport(timeouts: TransportTimeouts, tracer: (any Tracer)?) -> any ProviderTransport {
        switch client {
        case .nio(let client): NIOHTTPTransport(client: client, timeouts: timeouts, tracer: tracer)
        case .asyncHTTPClient(let client): ProviderHTTPTransport(client: client, timeouts: timeouts, tracer: tracer)
        }
    }

    /// Closes the client (once, after the last request).
    public func shutdown() async throws {
        switch client {
        case .nio(let client): await client.shutdown()
        case .asyncHTTPClient(let client): try await client.shutdown()
        }
    }

    public func run() async throws {
        try? await gracefulShutdown()
        try await shutdown()
    }
}
