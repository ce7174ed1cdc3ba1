import Logging
import NIOCore
import NIOHTTP1
import PaymentVocabulary
import Synchronization

/// Where a provider URL points: its connection pool's key and what goes on the request line and in `Host`.
struct NIOHTTPEndpoint: Sendable, Hashable {
    struct Key: Sendable, Hashable {
        var tls: Bool
        var host: String
        var port: Int
    }

    var key: Key
    /// Path and query as sent on the request line (`/` when the URL has none).
    var target: String
    /// The `Host` header: the host, with the port when it is not the scheme's default.
    var hostHeader: String

    struct InvalidURL: Error {}

    /// Parses `http://host[:port][/path][?query]` and `https://…`; an IPv6 host in brackets. No user info; a
    /// fragment is dropped. Refuses anything with spaces or control characters (they would break the request line).
    init(url: String) throws {
        let bytes = Array(url.utf8)
        let tls: Bool
        var i: Int
        if bytes.starts(with: Array("http://".utf8)) {
            tls = false
            i = 7
        } else if bytes.starts(with: Array("https://".utf8)) {
            tls = true
            i = 8
        } else {
            throw InvalidURL()
        }
        guard !bytes.contains(where: { $0 <= 0x20 || $0 == 0x7F }) else { throw InvalidURL() }
        let authorityStart = i
        let endOfAuthority: Set<UInt8> = [UInt8(ascii: "/"), UInt8(ascii: "?"), UInt8(ascii: "#")]
        while i < bytes.count, !endOfAuthority.contains(bytes[i]) { i += 1 }
        let authority = bytes[authorityStart..<i]
        guard !authority.isEmpty, !authority.contains(UInt8(ascii: "@")) else { throw InvalidURL() }
        var host: Substring
        var portText: Substring?
        let authorityText = Substring(decoding: authority, as: UTF8.self)
        if authorityText.first == "[" {
            guard let close = authorityText.firstIndex(of: "]") else { throw InvalidURL() }
            host = authorityText[authorityText.index(after: authorityText.startIndex)..<close]
            let rest = authorityText[authorityText.index(after: close)...]
            if !rest.isEmpty {
                guard rest.first == ":" else { throw InvalidURL() }
                portText = rest.dropFirst()
            }
        } else if let colon = authorityText.firstIndex(of: ":") {
            host = authorityText[..<colon]
            portText = authorityText[authorityText.index(after: colon)...]
        } else {
            host = authorityText
        }
        guard !host.isEmpty else { throw InvalidURL() }
        let defaultPort = tls ? 443 : 80
        var port = defaultPort
        if let portText {
            guard let p = Int(portText), (1...65535).contains(p) else { throw InvalidURL() }
            port = p
        }
        var target = Substring(decoding: bytes[i...], as: UTF8.self)
        if let hash = target.firstIndex(of: "#") { target = target[..<hash] }
        self.key = Key(tls: tls, host: String(host), port: port)
        self.target = target.first == "/" ? String(target) : "/" + target
        let hostText = authorityText.first == "[" ? "[\(host)]" : String(host)
        self.hostHeader = port == defaultPort ? hostText : "\(hostText):\(port)"
    }

    /// Whether the host is an IP address literal (no SNI name, and the certificate is checked against the address).
    var hostIsIPAddress: Bool {
        (try? SocketAddress(ipAddress: key.host, port: 0)) != nil
    }
}

/// Why a request on ``NIOHTTPTransport`` failed, before it becomes a ``ProviderError``.
enum NIOHTTPFailure: Error {
    /// The deadline passed. `sent`: the request had been written to a connection.
    case deadline(sent: Bool)
    /// The response's body (or its announced `Content-Length`) exceeds `maxResponseBytes`.
    case responseTooLarge
    /// The response's header lines exceed the client's `maxResponseHeadBytes` (`limit`).
    case responseHeadTooLarge(limit: Int)
    /// The connection closed or failed. `sent`: the request had been written to it.
    case connection(any Error, sent: Bool)
    /// The connection could not be made (TCP or TLS).
    case connect(any Error)
    case shutDown

    struct ConnectionClosed: Error {}

    /// Which failure, without its details (for log lines).
    enum Kind: Sendable, CustomStringConvertible {
        case deadline, responseTooLarge, responseHeadTooLarge, connection, connect, shutDown

        var description: String {
            switch self {
            case .deadline: "deadline"
            case .responseTooLarge: "response too large"
            case .responseHeadTooLarge: "response head too large"
            case .connection: "connection error"
            case .connect: "connect error"
            case .shutDown: "shutdown"
            }
        }
    }

    var kind: Kind {
        switch self {
        case .deadline: .deadline
        case .responseTooLarge: .responseTooLarge
        case .responseHeadTooLarge: .responseHeadTooLarge
        case .connection: .connection
        case .connect: .connect
        case .shutDown: .shutDown
        }
    }
}

/// One request on its way through ``NIOHTTPTransport``: what to send, its deadline, and the caller's continuation,
/// resumed exactly once (by the response, the deadline, a failure or cancellation, whichever comes first).
final class NIOHTTPRequest: Sendable {
    /// Request line, headers and body, as written (``NIOHTTPRequestBytes``).
    let bytes: ByteBuffer
    let deadline: NIODeadline
    let maxResponseBytes: Int
    let provider: Provider
    let operation: String
    /// The caller's logger: debug lines about the connection this request opens (and that connection's later life).
    let logger: Logger

    enum Phase {
        /// Waiting for a connection (in a pool's queue, or while one is made for it).
        case waiting
        case running(NIOHTTPConnection)
        case finished
    }

    private struct State {
        var phase = Phase.waiting
        var continuation: UnsafeContinuation<TransportResponse, any Error>?
        /// A result that arrived before the continuation was installed.
        var early: Result<TransportResponse, any Error>?
    }

    private let state = Mutex(State())

    /// What NIO's response decoder is told about every request (it needs the method: a response to `HEAD` has no
    /// body); the bytes on the wire are ``bytes``.
    static let observedHead = HTTPRequestHead(version: .http1_1, method: .POST, uri: "/")

    init(bytes: ByteBuffer, deadline: NIODeadline, maxResponseBytes: Int, provider: Provider,
         operation: String, logger: Logger) {
        self.bytes = bytes
        self.deadline = deadline
        self.maxResponseBytes = maxResponseBytes
        self.provider = provider
        self.operation = operation
        self.logger = logger
    }

    /// Installs the caller's continuation; resumes it at once when the request already finished (cancelled early).
    func install(_ continuation: UnsafeContinuation<TransportResponse, any Error>) {
        let early = state.withLock { s -> Result<TransportResponse, any Error>? in
            if let early = s.early { return early }
            s.continuation = continuation
            return nil
        }
        if let early { continuation.resume(with: early) }
    }

    var isFinished: Bool {
        state.withLock { if case .finished = $0.phase { true } else { false } }
    }

    /// Marks the request as running on `connection`; `false` when it already finished (then it must not be sent).
    func start(on connection: NIOHTTPConnection) -> Bool {
        state.withLock { s in
            if case .finished = s.phase { return false }
            s.phase = .running(connection)
            return true
        }
    }

    /// The request was not written after all (its connection turned out closed): it waits for a connection again.
    /// `false` when it already finished (cancelled, expired), then it must not be sent.
    func requeue() -> Bool {
        state.withLock { s in
            if case .finished = s.phase { return false }
            s.phase = .waiting
            return true
        }
    }

    /// Delivers the outcome. Returns the phase it was in, or `nil` when it had already finished (nothing delivered).
    @discardableResult
    func finish(_ result: Result<TransportResponse, any Error>) -> Phase? {
        let (continuation, previous) = state.withLock { s in Self.finish(&s, result) }
        continuation?.resume(with: result)
        return previous
    }

    private static func finish(_ s: inout State, _ result: Result<TransportResponse, any Error>)
        -> (UnsafeContinuation<TransportResponse, any Error>?, Phase?)
    {
        if case .finished = s.phase { return (nil, nil) }
        let previous = s.phase
        s.phase = .finished
        guard let c = s.continuation else {
            s.early = result
            return (nil, previous)
        }
        s.continuation = nil
        return (c, previous)
    }

    /// The outcome of a request that is finished but not yet delivered (see ``claim(_:)``).
    struct Delivery {
        fileprivate let continuation: UnsafeContinuation<TransportResponse, any Error>?
        fileprivate let result: Result<TransportResponse, any Error>

        func deliver() { continuation?.resume(with: result) }
    }

    /// Marks the request finished with `result` without resuming the caller yet (`nil` when it had already
    /// finished): its connection can go back to the pool first, so the caller's next request finds it idle.
    func claim(_ result: Result<TransportResponse, NIOHTTPFailure>) -> Delivery? {
        let mapped = result.mapError {
            NIOHTTPTransport.providerError($0, provider: provider, operation: operation) as any Error
        }
        return state.withLock { s -> Delivery? in
            let (continuation, previous) = Self.finish(&s, mapped)
            return previous == nil ? nil : Delivery(continuation: continuation, result: mapped)
        }
    }

    /// Fails the request with `failure` mapped to a ``ProviderError``.
    @discardableResult
    func fail(_ failure: NIOHTTPFailure) -> Phase? {
        finish(.failure(NIOHTTPTransport.providerError(failure, provider: provider, operation: operation)))
    }

    /// The calling task was cancelled: resume it with `CancellationError` and close the connection the request
    /// runs on (its response will never be read).
    func cancel() {
        if case .running(let connection) = finish(.failure(CancellationError())) {
            connection.close(.abandoned)
        }
    }

    /// The deadline passed while the request may still wait for a connection: fails it, as not sent, only if it
    /// still waits (checked and finished under one lock: a request that started meanwhile has its own timer).
    func expireIfWaiting() {
        let result: Result<TransportResponse, any Error> = .failure(
            NIOHTTPTransport.providerError(.deadline(sent: false), provider: provider, operation: operation))
        let continuation = state.withLock { s -> UnsafeContinuation<TransportResponse, any Error>? in
            guard case .waiting = s.phase else { return nil }
            return Self.finish(&s, result).0
        }
        continuation?.resume(with: result)
    }
}
