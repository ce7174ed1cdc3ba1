import Foundation

/// One broker node a connection may use: where to connect, as whom, and with which TLS settings.
///
/// A cluster's nodes are listed in one ``AMQPConfiguration`` (``AMQPConfiguration/nodes``): each may carry its own
/// credentials and TLS; the vhost and every other setting belong to the connection and are shared.
/// `description` and `debugDescription` are `host:port`: a node printed or logged never shows its password.
public struct AMQPNode: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    /// Broker host. Default `127.0.0.1`.
    public var host: String
    /// Broker port. Default 5672 (5671 for `amqps`).
    public var port: Int
    /// User name. Default `guest`.
    public var user: String
    /// Password; never logged nor shown in errors.
    public var password: String
    /// TLS, when connecting with `amqps://`. Default `nil` (plain TCP).
    public var tls: AMQPConfiguration.TLS?

    public init(host: String = "127.0.0.1", port: Int = 5672, user: String = "guest", password: String = "guest",
                tls: AMQPConfiguration.TLS? = nil) {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.tls = tls
    }

    /// `host:port`, for messages, logs and `/readyz`.
    public var endpoint: String { "\(host):\(port)" }

    public var description: String { endpoint }
    public var debugDescription: String { "AMQPNode(\(tls == nil ? "amqp" : "amqps")://\(user)@\(endpoint))" }

    /// The node's URL without its password, safe to log.
    func redactedURL(virtualHost: String) -> String {
        let vhost = virtualHost.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? virtualHost
        return "\(tls == nil ? "amqp" : "amqps")://\(user)@\(host):\(port)/\(vhost)"
    }
}

/// The order in which a connection tries its nodes.
public enum AMQPNodeOrder: Sendable, Equatable {
    /// A random order, drawn once per connection (so the connections of many workers spread over the nodes).
    case shuffled
    /// The order listed: the first node is preferred (tests, or a node next to the worker).
    case asListed
}
