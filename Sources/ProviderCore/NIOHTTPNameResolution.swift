#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore
import NIOPosix

/// How a ``NIOHTTPHostPool`` turns its host name into addresses: the system's resolver (`getaddrinfo`, so
/// `/etc/hosts`, `resolv.conf`, nsswitch and RFC 6724 ordering all apply) on a thread pool for blocking work, before
/// the connection is opened.
///
/// Why not NIO's `ClientBootstrap.connect(host:port:)`: it looks the name up on one serial queue per event loop and
/// counts the lookup inside the connect timeout. A DNS server that drops one query (podman's and Docker's embedded
/// servers do while a container joins the network; so does any server over lossy UDP) makes glibc wait 5 s before
/// asking again, so every connect in those 5 s failed as a connect timeout, with lookups queued behind the slow one
/// failing too, and the circuit breaker then held the provider. Here the lookup is bounded by the request's
/// deadline, not by the connect timeout, and the connect timeout covers only the TCP and TLS handshakes; a lookup
/// left unanswered for a second gets another one beside it (``NIOHTTPHostLookup``).
struct NIOHTTPNameResolution: Sendable {
    /// Where the blocking lookups run.
    var threadPool: NIOThreadPool
    /// The lookup itself (blocking): every address of `host`, for `port`, in the order to try them.
    var lookup: @Sendable (_ host: String, _ port: Int) throws -> [SocketAddress]

    /// `getaddrinfo` on NIO's shared thread pool for blocking work.
    static let system = NIOHTTPNameResolution(threadPool: .singleton, lookup: systemLookup)

    /// The name did not resolve (or resolved to no address this client can use).
    struct LookupFailed: Error, CustomStringConvertible {
        var host: String
        /// `getaddrinfo`'s own words, for the debug line.
        var reason: String
        var description: String { "could not resolve \(host): \(reason)" }
    }

    /// The request's deadline came before the lookup finished.
    struct TimedOut: Error, CustomStringConvertible {
        var host: String
        var description: String { "could not resolve \(host) before the request's deadline" }
    }

    /// Looks `host` up on the thread pool; the future completes on `eventLoop`.
    func resolve(host: String, port: Int, on eventLoop: any EventLoop) -> EventLoopFuture<[SocketAddress]> {
        let lookup = self.lookup
        return threadPool.runIfActive(eventLoop: eventLoop) { try lookup(host, port) }
    }

    /// `getaddrinfo` for a TCP connection: IPv6 and IPv4 addresses in the resolver's order (RFC 6724).
    @Sendable static func systemLookup(host: String, port: Int) throws -> [SocketAddress] {
        var hints = addrinfo()
        #if canImport(Glibc)
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
        hints.ai_socktype = SOCK_STREAM
        #endif
        hints.ai_protocol = Int32(IPPROTO_TCP)
        var first: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &first)
        guard rc == 0 else {
            throw LookupFailed(host: host, reason: String(cString: gai_strerror(rc)))
        }
        defer { freeaddrinfo(first) }
        var addresses: [SocketAddress] = []
        var next = first
        while let info = next {
            next = info.pointee.ai_next
            guard let address = info.pointee.ai_addr else { continue }
            switch info.pointee.ai_family {
            case AF_INET:
                addresses.append(SocketAddress(
                    UnsafeRawPointer(address).load(as: sockaddr_in.self), host: host))
            case AF_INET6:
                addresses.append(SocketAddress(
                    UnsafeRawPointer(address).load(as: sockaddr_in6.self), host: host))
            default:
                continue
            }
        }
        guard !addresses.isEmpty else { throw LookupFailed(host: host, reason: "no IPv4 or IPv6 address") }
        return addresses
    }

    /// The addresses of one finished lookup, handed to NIO's connect (Happy Eyeballs: IPv6 and IPv4 raced, each
    /// address tried in turn) without a second lookup.
    struct Resolved: Resolver, Sendable {
        var addresses: [SocketAddress]
        var eventLoop: any EventLoop

        func initiateAQuery(host: String, port: Int) -> EventLoopFuture<[SocketAddress]> {
            eventLoop.makeSucceededFuture(addresses.filter { $0.protocol == .inet })
        }

        func initiateAAAAQuery(host: String, port: Int) -> EventLoopFuture<[SocketAddress]> {
            eventLoop.makeSucceededFuture(addresses.filter { $0.protocol == .inet6 })
        }

        func cancelQueries() {}
    }
}
