import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A small HTTP/1.1 server on 127.0.0.1 for the transport tests that the sandbox cannot script: it counts the
/// connections it accepted, those that closed and the requests it read, answers every request as `answer` says (a
/// response, chunked or not, or closing the connection without one), and closes or resets its open connections on
/// demand (a server closing idle keep-alive connections).
final class TestHTTPServer: Sendable {
    enum Answer: Sendable {
        case respond(status: Int, headers: [(String, String)] = [], body: [UInt8] = [], chunked: Bool = false)
        /// Reads the request, then closes the connection without answering (a reset after sending).
        case close
    }

    let port: Int
    private let channel: any Channel
    private let tracking: Tracking

    var url: String { "http://127.0.0.1:\(port)/test" }
    /// Connections accepted so far.
    var connections: Int { tracking.accepted.load(ordering: .relaxed) }
    /// Connections closed so far (by either side).
    var closedConnections: Int { tracking.closed.load(ordering: .relaxed) }
    /// Requests read completely so far.
    var requests: Int { tracking.requests.load(ordering: .relaxed) }

    private init(port: Int, channel: any Channel, tracking: Tracking) {
        self.port = port
        self.channel = channel
        self.tracking = tracking
    }

    static func with<R: Sendable>(answer: @escaping @Sendable () -> Answer,
                                  _ body: (TestHTTPServer) async throws -> R) async throws -> R {
        let tracking = Tracking()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { child in
                tracking.accepted.add(1, ordering: .relaxed)
                tracking.open.withLock { $0[ObjectIdentifier(child)] = child }
                child.closeFuture.whenComplete { _ in
                    tracking.open.withLock { $0[ObjectIdentifier(child)] = nil }
                    tracking.closed.add(1, ordering: .relaxed)
                }
                return child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.configureHTTPServerPipeline()
                    try child.pipeline.syncOperations.addHandler(AnsweringHandler(answer: answer, tracking: tracking))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let server = TestHTTPServer(port: channel.localAddress?.port ?? 0, channel: channel, tracking: tracking)
        do {
            let result = try await body(server)
            try? await channel.close()
            return result
        } catch {
            try? await channel.close()
            throw error
        }
    }

    /// Closes every open connection: with a FIN, or `reset` with an RST (`SO_LINGER` 0). Returns once they are closed.
    func closeConnections(reset: Bool = false) async throws {
        for child in tracking.open.withLock({ Array($0.values) }) {
            if reset, let options = child as? any SocketOptionProvider {
                try await options.setSoLinger(linger(l_onoff: 1, l_linger: 0)).get()
            }
            try? await child.close()
        }
    }

    /// Waits (bounded by `limit`) until `condition` holds; returns whether it did.
    func wait(upTo limit: Duration = .seconds(5), until condition: (TestHTTPServer) -> Bool) async throws -> Bool {
        let started = ContinuousClock.now
        while !condition(self) {
            guard ContinuousClock.now - started < limit else { return false }
            try await Task.sleep(for: .milliseconds(10))
        }
        return true
    }

    /// What the server and its connections' handlers count and hold.
    fileprivate final class Tracking: Sendable {
        let accepted = Atomic<Int>(0)
        let closed = Atomic<Int>(0)
        let requests = Atomic<Int>(0)
        let open = Mutex<[ObjectIdentifier: any Channel]>([:])
    }
}

private final class AnsweringHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart
    let answer: @Sendable () -> TestHTTPServer.Answer
    let tracking: TestHTTPServer.Tracking

    init(answer: @escaping @Sendable () -> TestHTTPServer.Answer, tracking: TestHTTPServer.Tracking) {
        self.answer = answer
        self.tracking = tracking
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .end = unwrapInboundIn(data) else { return }
        tracking.requests.add(1, ordering: .relaxed)
        switch answer() {
        case .close:
            context.close(promise: nil)
        case .respond(let status, let headers, let body, let chunked):
            var head = HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: status))
            for (name, value) in headers { head.headers.add(name: name, value: value) }
            if chunked {
                head.headers.add(name: "Transfer-Encoding", value: "chunked")
            } else {
                head.headers.add(name: "Content-Length", value: String(body.count))
            }
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            // Chunked: the body in parts of 1 KiB.
            var offset = 0
            while offset < body.count {
                let end = chunked ? min(offset + 1024, body.count) : body.count
                context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: body[offset..<end])))), promise: nil)
                offset = end
            }
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            if head.headers["Connection"].contains(where: { $0.lowercased() == "close" }) {
                context.close(promise: nil)
            }
        }
    }
}

/// A port on 127.0.0.1 where nothing listens (bound once, then closed): connecting is refused.
func closedPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    try withUnsafeMutablePointer(to: &address) { pointer in
        try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
            guard bind(fd, sa, length) == 0, getsockname(fd, sa, &length) == 0 else { throw POSIXFailure() }
        }
    }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// A listener on 127.0.0.1 that accepts nothing and whose accept queue (backlog 0) is already full: Linux drops
/// further SYNs, so a connect hangs until the client's connect timeout. `close()` releases it.
struct FullListener {
    let port: Int
    private let descriptors: [Int32]

    init() throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        try withUnsafeMutablePointer(to: &address) { pointer in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                guard bind(listener, sa, length) == 0, listen(listener, 0) == 0, getsockname(listener, sa, &length) == 0
                else { throw POSIXFailure() }
            }
        }
        var descriptors = [listener]
        // Two non-blocking connects fill the queue (one is queued, the next one's SYN is already dropped).
        for _ in 0..<2 {
            let client = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            _ = fcntl(client, F_SETFL, O_NONBLOCK)
            withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in _ = connect(client, sa, length) }
            }
            descriptors.append(client)
        }
        usleep(100_000)
        self.port = Int(UInt16(bigEndian: address.sin_port))
        self.descriptors = descriptors
    }

    func close() { for fd in descriptors { _ = Glibc.close(fd) } }
}

struct POSIXFailure: Error {}
