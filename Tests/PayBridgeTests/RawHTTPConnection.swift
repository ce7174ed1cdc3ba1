import Foundation
import NIOCore
import NIOPosix

/// A plain TCP connection to a PayBridge listener for tests that need what an HTTP client will not do: send a
/// request head without its body, trickle bytes, stall, or watch the server close the connection.
///
/// Bytes go out exactly as given; everything the server sends is collected by ``ResponseCollector`` on the event loop.
final class RawHTTPConnection: Sendable {
    let channel: any Channel
    private let collector: NIOLoopBound<ResponseCollector>

    private init(channel: any Channel, collector: NIOLoopBound<ResponseCollector>) {
        self.channel = channel
        self.collector = collector
    }

    /// - Parameters:
    ///   - source: the local address to connect from (any of 127.0.0.0/8 on Linux: "another client" of a listener
    ///     on 127.0.0.1); the system's choice when `nil`.
    ///   - allowHalfClosure: keep the connection open for sending after the server shuts its side, as a client
    ///     that ignores the server's close does; ``untilClosed(timeout:)`` then waits for the full close (a reset
    ///     on the next send).
    static func connect(port: Int, host: String = "127.0.0.1", from source: String? = nil,
                        allowHalfClosure: Bool = false) async throws -> RawHTTPConnection {
        var bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.allowRemoteHalfClosure, value: allowHalfClosure)
        if let source { bootstrap = bootstrap.bind(to: try SocketAddress(ipAddress: source, port: 0)) }
        // The collector is handed back by the initializer: a server at its connection cap may close the connection
        // before a later lookup in the pipeline could find it.
        let (channel, collector) = try await bootstrap
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let collector = ResponseCollector()
                    try channel.pipeline.syncOperations.addHandler(collector)
                    return (channel, NIOLoopBound(collector, eventLoop: channel.eventLoop))
                }
            }
        return RawHTTPConnection(channel: channel, collector: collector)
    }

    func send(_ text: String) async throws {
        try await channel.writeAndFlush(ByteBuffer(string: text))
    }

    /// The next complete response (head and `Content-Length` body) the server sends.
    func nextResponse(timeout: Duration = .seconds(10)) async throws -> RawHTTPResponse {
        let collector = self.collector
        return try await channel.eventLoop.flatSubmit { collector.value.nextResponse() }
            .failing(after: timeout, "a response").get()
    }

    /// Everything the server sent, once it closed the connection (EOF or reset).
    func untilClosed(timeout: Duration = .seconds(10)) async throws -> String {
        let collector = self.collector
        return try await channel.eventLoop.flatSubmit { collector.value.closed.futureResult }
            .failing(after: timeout, "the server to close the connection").get()
    }

    func close() async {
        try? await channel.close()
    }
}

/// One HTTP response as read off the wire.
struct RawHTTPResponse: Sendable {
    let status: Int
    /// Header names lowercased.
    let headers: [String: String]
    let body: String
}

struct RawHTTPTimeout: Error, CustomStringConvertible {
    let description: String
}

extension EventLoopFuture where Value: Sendable {
    /// This future's result, or ``RawHTTPTimeout`` after `timeout`. Enforced on the event loop: awaiting a future
    /// cannot be cancelled, so a timeout racing it in a task group would wait for it anyway.
    func failing(after timeout: Duration, _ what: String) -> EventLoopFuture<Value> {
        let promise = eventLoop.makePromise(of: Value.self)
        let timer = eventLoop.scheduleTask(in: TimeAmount(timeout)) {
            promise.fail(RawHTTPTimeout(description: "waited \(timeout) for \(what)"))
        }
        whenComplete { result in
            timer.cancel()
            promise.completeWith(result)  // ignored when the timer came first
        }
        return promise.futureResult
    }
}

/// Collects the bytes a server sends; hands out complete responses in order and everything at close.
/// Lives on its channel's event loop (reached through `NIOLoopBound`).
final class ResponseCollector: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private var received = ByteBuffer()
    private var everything = ""
    private var parsed: [RawHTTPResponse] = []
    private var waiting: [EventLoopPromise<RawHTTPResponse>] = []
    private var eventLoop: (any EventLoop)?
    private var closedPromise: EventLoopPromise<String>?
    private var isClosed = false

    var closed: EventLoopPromise<String> { closedPromise! }

    func handlerAdded(context: ChannelHandlerContext) {
        eventLoop = context.eventLoop
        closedPromise = context.eventLoop.makePromise()
    }

    func nextResponse() -> EventLoopFuture<RawHTTPResponse> {
        if !parsed.isEmpty { return eventLoop!.makeSucceededFuture(parsed.removeFirst()) }
        if isClosed {
            return eventLoop!.makeFailedFuture(RawHTTPTimeout(description: "closed before a response: \(everything)"))
        }
        let promise = eventLoop!.makePromise(of: RawHTTPResponse.self)
        waiting.append(promise)
        return promise.futureResult
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        everything += buffer.readString(length: buffer.readableBytes) ?? ""
        received.writeImmutableBuffer(unwrapInboundIn(data))
        while let response = takeResponse() {
            if waiting.isEmpty { parsed.append(response) } else { waiting.removeFirst().succeed(response) }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)  // a reset counts as closed
    }

    func channelInactive(context: ChannelHandlerContext) {
        isClosed = true
        for promise in waiting { promise.fail(RawHTTPTimeout(description: "closed before a response: \(everything)")) }
        waiting = []
        closedPromise?.succeed(everything)
    }

    private func takeResponse() -> RawHTTPResponse? {
        let view = String(decoding: received.readableBytesView, as: UTF8.self)
        guard let headEnd = view.range(of: "\r\n\r\n") else { return nil }
        let lines = view[..<headEnd.lowerBound].components(separatedBy: "\r\n")
        let statusParts = lines[0].split(separator: " ")
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else { return nil }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let headBytes = view[..<headEnd.upperBound].utf8.count
        let length = Int(headers["content-length"] ?? "0") ?? 0
        guard received.readableBytes >= headBytes + length else { return nil }
        received.moveReaderIndex(forwardBy: headBytes)
        let body = received.readString(length: length) ?? ""
        received.discardReadBytes()
        return RawHTTPResponse(status: status, headers: headers, body: body)
    }
}
