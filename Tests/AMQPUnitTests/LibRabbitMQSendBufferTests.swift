import CRabbitMQ
import CRabbitMQShims
import Glibc
import Testing

/// The send buffer the I/O thread holds a run of publishes and acks in: frames librabbitmq writes while holding
/// stay in the process until the release writes them, in order, in one piece; without holding, frames leave at
/// once. Checked on a librabbitmq TCP socket over a loopback connection, with heartbeat frames (8 bytes each).
@Suite struct LibRabbitMQSendBufferTests {
    static let heartbeat: [UInt8] = [8, 0, 0, 0, 0, 0, 0, 0xCE]

    /// A librabbitmq connection state whose socket writes into one end of a loopback connection; `peer` is the other.
    final class Pair {
        let state: amqp_connection_state_t
        let socket: OpaquePointer
        let peer: Int32

        init() throws {
            let (writer, reader) = try Self.loopbackTCPPair()
            state = try #require(amqp_new_connection())
            socket = try #require(amqp_tcp_socket_new(state))
            amqp_tcp_socket_set_sockfd(socket, writer)  // the socket owns it from here
            peer = reader
        }

        /// A connected TCP pair on 127.0.0.1 (TCP's buffers grow to megabytes, so the 256 KiB limit fits in flight).
        static func loopbackTCPPair() throws -> (Int32, Int32) {
            let listener = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(listener) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            try withUnsafeMutablePointer(to: &address) { pointer in
                try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                    try #require(bind(listener, raw, length) == 0)
                    try #require(listen(listener, 1) == 0)
                    try #require(getsockname(listener, raw, &length) == 0)
                }
            }
            let writer = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            try withUnsafePointer(to: &address) { pointer in
                try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                    try #require(connect(writer, raw, length) == 0)
                }
            }
            let reader = accept(listener, nil, nil)
            try #require(reader >= 0)
            return (writer, reader)
        }

        deinit {
            amqp_destroy_connection(state)  // deletes the socket, and with it the buffer
            close(peer)
        }

        func sendHeartbeat() -> Int32 {
            var frame = amqp_frame_t()
            frame.frame_type = UInt8(AMQP_FRAME_HEARTBEAT)
            frame.channel = 0
            return amqp_send_frame(state, &frame)
        }

        /// Whether the peer has bytes to read, without waiting.
        var peerHasBytes: Bool {
            var wait = pollfd(fd: peer, events: Int16(POLLIN), revents: 0)
            return poll(&wait, 1, 0) == 1
        }

        /// Everything the peer can read now.
        func readPeer() -> [UInt8] {
            var bytes: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 4096)
            while peerHasBytes {
                let count = read(peer, &chunk, chunk.count)
                guard count > 0 else { break }
                bytes += chunk[..<count]
            }
            return bytes
        }
    }

    @Test func heldFramesLeaveOnlyWhenReleasedInOrder() throws {
        let pair = try Pair()
        #expect(crmq_send_buffer_install(pair.socket) == 0)
        crmq_send_buffer_hold(pair.socket)
        for _ in 0..<3 { #expect(pair.sendHeartbeat() == AMQP_STATUS_OK.rawValue) }
        #expect(!pair.peerHasBytes, "held frames were written before the release")
        #expect(crmq_send_buffer_release(pair.socket) == 0)
        #expect(pair.readPeer() == Array([Self.heartbeat, Self.heartbeat, Self.heartbeat].joined()))
    }

    @Test func framesSentWhileNotHoldingLeaveAtOnce() throws {
        let pair = try Pair()
        #expect(crmq_send_buffer_install(pair.socket) == 0)
        #expect(pair.sendHeartbeat() == AMQP_STATUS_OK.rawValue)
        #expect(pair.readPeer() == Self.heartbeat)
        crmq_send_buffer_hold(pair.socket)
        #expect(crmq_send_buffer_release(pair.socket) == 0)  // nothing held: nothing written
        #expect(pair.sendHeartbeat() == AMQP_STATUS_OK.rawValue)
        #expect(pair.readPeer() == Self.heartbeat)
    }

    @Test func moreThanTheLimitIsWrittenWhileHoldingAndNothingIsLost() throws {
        let pair = try Pair()
        #expect(crmq_send_buffer_install(pair.socket) == 0)
        crmq_send_buffer_hold(pair.socket)
        // 40,000 frames = 320,000 bytes, past the 256 KiB limit: the first part is written while holding. The
        // peer reads as the frames go, so a full socket buffer cannot stall the writer.
        var received: [UInt8] = []
        for _ in 0..<40_000 {
            #expect(pair.sendHeartbeat() == AMQP_STATUS_OK.rawValue)
            if pair.peerHasBytes { received += pair.readPeer() }
        }
        #expect(!received.isEmpty, "nothing was written past the limit")
        #expect(crmq_send_buffer_release(pair.socket) == 0)
        received += pair.readPeer()
        #expect(received.count == 40_000 * 8)
        #expect(received.elementsEqual((0..<40_000).lazy.flatMap { _ in Self.heartbeat }))
    }

    @Test func aSocketIsBufferedOnce() throws {
        let pair = try Pair()
        #expect(crmq_send_buffer_install(pair.socket) == 0)
        #expect(crmq_send_buffer_install(pair.socket) == -1)
    }
}
