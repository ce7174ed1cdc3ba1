import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A TCP relay on 127.0.0.1 in front of a local port (the broker's): a test points a client at ``port``, then
/// ``cut()`` simulates the broker going away for that client only (every relayed connection is reset and new ones
/// are refused) and ``restore()`` brings it back on the same port; ``freeze()``/``thaw()`` keep the connections but
/// hold back what flows through them (a broker that stopped answering). The shared broker itself is never touched.
///
/// Plain blocking sockets on dedicated threads (one accept thread, two copy threads per connection): it never
/// runs on Swift's cooperative pool. The threads keep the relay alive until ``stop()``: call it when done.
public final class TCPRelay: Sendable {
    /// The port clients connect to.
    public let port: UInt16
    private let targetPort: UInt16
    private struct State {
        var listener: Int32 = -1
        var sockets: Set<Int32> = []
        var stopped = false
        var frozen = false
    }
    private let state = Mutex(State())

    /// Starts relaying `127.0.0.1:<new port>` to `127.0.0.1:targetPort`.
    public init(targetPort: UInt16) throws {
        self.targetPort = targetPort
        let (listener, port) = try Self.listen(on: 0)
        self.port = port
        state.withLock { $0.listener = listener }
        startAccepting(listener)
    }

    /// The relay goes down: open connections are reset, new ones refused until ``restore()``.
    public func cut() {
        // Under the lock: the copy threads close their sockets under it too, so no descriptor here is reused.
        state.withLock { s in
            if s.listener >= 0 { shutdown(s.listener, Int32(SHUT_RDWR)) }  // wakes the accept thread, which closes it
            s.listener = -1
            for socket in s.sockets { shutdown(socket, Int32(SHUT_RDWR)) }  // the copy threads end and close them
        }
    }

    /// Connections stay open but nothing is forwarded (bytes read are held back): a broker that stopped answering.
    public func freeze() {
        state.withLock { $0.frozen = true }
    }

    /// Forwards again, held-back bytes first.
    public func thaw() {
        state.withLock { $0.frozen = false }
    }

    /// Listens again on the same ``port``.
    public func restore() throws {
        let (listener, _) = try Self.listen(on: port)
        let stale = state.withLock { s -> Int32? in
            guard !s.stopped else { return listener }
            s.listener = listener
            return nil
        }
        if let stale { close(stale); return }
        startAccepting(listener)
    }

    /// Cuts and stops for good.
    public func stop() {
        state.withLock { $0.stopped = true }
        cut()
    }

    // MARK: - Threads

    private func startAccepting(_ listener: Int32) {
        let thread = Thread { [self] in
            while true {
                let client = accept(listener, nil, nil)
                guard client >= 0 else {
                    if errno == EINTR { continue }
                    break
                }
                guard let upstream = try? Self.connect(to: targetPort) else {
                    close(client)
                    continue
                }
                let admitted = state.withLock { s -> Bool in
                    guard s.listener == listener else { return false }
                    s.sockets.insert(client)
                    s.sockets.insert(upstream)
                    return true
                }
                guard admitted else {
                    close(client)
                    close(upstream)
                    break
                }
                let copiers = Atomic<Int>(2)
                let finished: @Sendable () -> Void = { [self] in
                    // The second copy thread to end closes both sockets.
                    guard copiers.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 else { return }
                    state.withLock { s in
                        s.sockets.remove(client)
                        s.sockets.remove(upstream)
                        close(client)
                        close(upstream)
                    }
                }
                startCopying(from: client, to: upstream, finished: finished)
                startCopying(from: upstream, to: client, finished: finished)
            }
            close(listener)
        }
        thread.name = "tcp-relay-accept"
        thread.start()
    }

    private func startCopying(from source: Int32, to destination: Int32, finished: @escaping @Sendable () -> Void) {
        let thread = Thread { [self] in
            var buffer = [UInt8](repeating: 0, count: 16 * 1024)
            copying: while true {
                let count = buffer.withUnsafeMutableBytes { read(source, $0.baseAddress, $0.count) }
                if count < 0, errno == EINTR { continue }
                guard count > 0 else { break }
                while state.withLock({ $0.frozen && !$0.stopped }) {
                    usleep(5_000)  // a dedicated thread, never the cooperative pool
                }
                var written = 0
                while written < count {
                    // `send` with MSG_NOSIGNAL, not `write`: a socket `cut()` shut down mid-copy fails with EPIPE
                    // instead of raising SIGPIPE, which would kill the whole test process.
                    let n = buffer.withUnsafeBytes {
                        send(destination, $0.baseAddress! + written, count - written, Int32(MSG_NOSIGNAL))
                    }
                    if n < 0, errno == EINTR { continue }
                    guard n > 0 else { break copying }
                    written += n
                }
            }
            // Either side ended: end both directions (the other copy thread wakes up and ends too).
            shutdown(source, Int32(SHUT_RDWR))
            shutdown(destination, Int32(SHUT_RDWR))
            finished()
        }
        thread.name = "tcp-relay-copy"
        thread.start()
    }

    // MARK: - Sockets

    struct SocketError: Error, CustomStringConvertible {
        var operation: String
        var code: Int32
        var description: String { "TCPRelay: \(operation) failed: \(String(cString: strerror(code)))" }
    }

    private static func loopback(_ port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        return address
    }

    private static func listen(on port: UInt16) throws -> (Int32, UInt16) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw SocketError(operation: "socket", code: errno) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = loopback(port)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, Glibc.listen(fd, 64) == 0 else {
            let code = errno
            close(fd)
            throw SocketError(operation: "bind/listen on 127.0.0.1:\(port)", code: code)
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return (fd, UInt16(bigEndian: address.sin_port))
    }

    private static func connect(to port: UInt16) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw SocketError(operation: "socket", code: errno) }
        var address = loopback(port)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            let code = errno
            close(fd)
            throw SocketError(operation: "connect to 127.0.0.1:\(port)", code: code)
        }
        return fd
    }
}
