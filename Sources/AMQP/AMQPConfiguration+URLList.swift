import Foundation

/// Parsing broker URLs: one `amqp://` / `amqps://` URL, or a comma-separated list of a cluster's nodes.
extension AMQPConfiguration {
    /// The most nodes one setting may list.
    public static let maximumNodes = 16
    /// The longest the URL setting may be, in UTF-8 bytes (a list of ``maximumNodes`` long URLs fits easily).
    public static let maximumURLTextBytes = 8 * 1024

    /// What one URL says.
    struct ParsedURL: Sendable {
        var node = AMQPNode()
        var virtualHost = "/"
        /// `?heartbeat=`, when given.
        var heartbeat: Duration?
        /// `?connection_name=`, when given.
        var connectionName: String?
    }

    /// Splits `text` into its URLs: at each comma followed (after optional white space) by `amqp://` or `amqps://`.
    /// A comma anywhere else (in a password, say) stays in its URL; one URL comes back whole and untrimmed.
    static func splitURLList(_ text: String) -> [String] {
        var entries: [String] = []
        for piece in text.split(separator: ",", omittingEmptySubsequences: false) {
            let start = piece.drop { $0.isWhitespace }.prefix(8).lowercased()
            if entries.isEmpty || start.hasPrefix("amqp://") || start.hasPrefix("amqps://") {
                entries.append(String(piece))
            } else {
                entries[entries.count - 1] += "," + piece
            }
        }
        return entries.count > 1 ? entries.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) } : entries
    }

    /// Several URLs: one node each, the shared settings checked to agree.
    init(list entries: [String]) throws {
        let count = entries.count
        guard count <= Self.maximumNodes else {
            throw AMQPError(.invalidConfiguration, "\(count) broker URLs; at most \(Self.maximumNodes) nodes")
        }
        var parsed: [ParsedURL] = []
        for (index, entry) in entries.enumerated() {
            guard !entry.hasSuffix(",") else {
                throw AMQPError(.invalidConfiguration, "URL \(index + 1) of \(count) ends with a comma; separate "
                                    + "the URLs with single commas")
            }
            do throws(AMQPError) {
                parsed.append(try Self.parse(entry))
            } catch {
                throw AMQPError(.invalidConfiguration, "URL \(index + 1) of \(count): \(error.message)")
            }
        }
        let first = parsed[0]
        var seen: [String: Int] = [:]
        var heartbeat = first.heartbeat.map { (value: $0, url: 1) }
        var connectionName = first.connectionName.map { (value: $0, url: 1) }
        for (index, url) in parsed.enumerated() {
            let number = index + 1
            let endpoint = url.node.endpoint
            if let earlier = seen[endpoint] {
                throw AMQPError(.invalidConfiguration, "URLs \(earlier) and \(number) of \(count) both name node "
                                    + "\(endpoint); list each node once")
            }
            seen[endpoint] = number
            guard url.virtualHost == first.virtualHost else {
                throw AMQPError(.invalidConfiguration, "URL \(number) of \(count) (\(endpoint)) names vhost "
                                    + "'\(url.virtualHost)' but URL 1 (\(first.node.endpoint)) names "
                                    + "'\(first.virtualHost)': every node in the list must serve the same vhost")
            }
            if let value = url.heartbeat {
                if let earlier = heartbeat, earlier.value != value {
                    throw AMQPError(.invalidConfiguration, "URLs \(earlier.url) and \(number) of \(count) give "
                                        + "different heartbeats; give it once, or the same on each")
                }
                heartbeat = (value, number)
            }
            if let value = url.connectionName {
                if let earlier = connectionName, earlier.value != value {
                    throw AMQPError(.invalidConfiguration, "URLs \(earlier.url) and \(number) of \(count) give "
                                        + "different connection names; give it once, or the same on each")
                }
                connectionName = (value, number)
            }
        }
        var shared = first
        shared.heartbeat = heartbeat?.value
        shared.connectionName = connectionName?.value
        self.init(parsed: shared)
        otherNodes = parsed.dropFirst().map(\.node)
    }

    /// Parses one `amqp://user:pass@host:port/vhost?heartbeat=…&connection_name=…` URL.
    /// - Throws: ``AMQPError`` `.invalidConfiguration`, never echoing the password.
    static func parse(_ url: String) throws(AMQPError) -> ParsedURL {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased() else {
            throw AMQPError(.invalidConfiguration, "not a URL; expected amqp://user:pass@host:port/vhost")
        }
        var parsed = ParsedURL()
        switch scheme {
        case "amqp": parsed.node.port = 5672
        case "amqps":
            parsed.node.port = 5671
            parsed.node.tls = TLS()
        default:
            throw AMQPError(.invalidConfiguration, "unsupported scheme '\(scheme)'; use amqp:// or amqps://")
        }
        if let host = components.host, !host.isEmpty { parsed.node.host = host }
        if let port = components.port {
            guard (1...65535).contains(port) else {
                throw AMQPError(.invalidConfiguration, "port \(port) out of range")
            }
            parsed.node.port = port
        }
        if let user = components.user { parsed.node.user = user.removingPercentEncoding ?? user }
        if let password = components.password { parsed.node.password = password.removingPercentEncoding ?? password }
        let path = components.percentEncodedPath
        if !(path.isEmpty || path == "/") {
            let raw = String(path.dropFirst())
            guard !raw.contains("/") else {
                throw AMQPError(.invalidConfiguration, "vhost must be one path segment (encode '/' as %2F)")
            }
            parsed.virtualHost = raw.removingPercentEncoding ?? raw
        }
        for item in components.queryItems ?? [] {
            switch item.name {
            case "heartbeat":
                // AMQP negotiates the heartbeat as a 16-bit number of seconds.
                guard let seconds = item.value.flatMap(Int.init), (0...65535).contains(seconds) else {
                    throw AMQPError(.invalidConfiguration, "heartbeat must be a whole number of seconds in 0...65535")
                }
                parsed.heartbeat = .seconds(seconds)
            case "connection_name":
                if let value = item.value { parsed.connectionName = value }
            default: continue
            }
        }
        return parsed
    }
}
