import NIOCore

/// Who a connection comes from, as the per-client limits see it (``HTTPConnectionGuard``, ``CallbackRateLimiter``):
/// an IPv4 address, or the /64 prefix of an IPv6 address. One subscriber usually holds a whole /64, so counting
/// single IPv6 addresses would limit no one. An IPv4-mapped IPv6 address (a dual-stack listener) is its IPv4
/// address. Anything else (a Unix socket, an address the channel no longer knows) is ``unknown``, one client.
///
/// A fixed 16 bytes whatever the address: a table keyed by it costs the same per entry for every client.
struct ClientAddress: Hashable, Sendable {
    private let high: UInt64
    private let low: UInt64

    private init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// Every connection whose address is not IP.
    static let unknown = ClientAddress(high: .max, low: .max)

    init(_ address: SocketAddress?) {
        switch address {
        case .v4(let v4):
            var bytes = [UInt8](repeating: 0, count: 16)
            bytes[10] = 0xFF
            bytes[11] = 0xFF
            withUnsafeBytes(of: v4.address.sin_addr) { bytes.replaceSubrange(12..<16, with: $0.prefix(4)) }
            self.init(ipv6Bytes: bytes)
        case .v6(let v6):
            let bytes = withUnsafeBytes(of: v6.address.sin6_addr) { Array($0.prefix(16)) }
            self.init(ipv6Bytes: bytes)
        case .unixDomainSocket, .none:
            self = .unknown
        }
    }

    /// From the 16 bytes of an IPv6 address (an IPv4 one in its mapped form `::ffff:a.b.c.d`).
    private init(ipv6Bytes bytes: [UInt8]) {
        let high = bytes[0..<8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        let low = bytes[8..<16].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        let ipv4Mapped = high == 0 && low >> 32 == 0xFFFF
        // IPv4: the whole address; IPv6: its /64 prefix.
        self.init(high: high, low: ipv4Mapped ? low : 0)
    }
}
