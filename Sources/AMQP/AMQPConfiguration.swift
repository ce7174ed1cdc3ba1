import Foundation

/// How to reach and talk to a broker. A value type with documented defaults; validated once in `init`.
public struct AMQPConfiguration: Sendable {
    /// TLS settings for `amqps://`.
    public struct TLS: Sendable {
        /// PEM file with the CA certificates to trust; `nil` uses librabbitmq's default (none: set one).
        public var caCertificatePath: String?
        /// Verify the broker's certificate and host name. Default `true`.
        public var verifyPeer: Bool = true
        public init(caCertificatePath: String? = nil, verifyPeer: Bool = true) {
            self.caCertificatePath = caCertificatePath
            self.verifyPeer = verifyPeer
        }
    }

    /// Broker host. Default `127.0.0.1`.
    public var host: String = "127.0.0.1"
    /// Broker port. Default 5672 (5671 for `amqps`).
    public var port: Int = 5672
    /// Virtual host. Default `/`.
    public var virtualHost: String = "/"
    /// User name. Default `guest`.
    public var user: String = "guest"
    /// Password; never logged nor shown in errors.
    public var password: String = "guest"
    /// TLS, when connecting with `amqps://`. Default `nil` (plain TCP).
    public var tls: TLS? = nil
    /// Heartbeat interval negotiated with the broker. Default 10 s; `.zero` disables heartbeats.
    public var heartbeat: Duration = .seconds(10)
    /// Connection name shown in the management UI and `rabbitmqctl list_connections`. Default `paybridge`.
    public var connectionName: String = "paybridge"
    /// Timeout for connecting (TCP + TLS + login) and for each synchronous AMQP method. Default 10 s.
    public var operationTimeout: Duration = .seconds(10)
    /// Maximum frame size. Default 131072 (librabbitmq's default).
    public var frameMax: Int = 131_072
    /// The longest the I/O thread waits on the socket before checking its mailbox and heartbeats. Default 200 ms.
    public var pollInterval: Duration = .milliseconds(200)
    /// Reconnect policy after the connection drops. Default: 100 ms doubling to 10 s, full jitter, forever.
    public var reconnect: AMQPReconnectPolicy = .init()

    /// Creates a configuration from explicit values (defaults as documented on each property).
    public init() {}

    /// Parses `amqp://user:pass@host:port/vhost` or `amqps://…`. The vhost is percent-decoded (`%2F` is `/`);
    /// an absent path means `/`. Query parameters `heartbeat` (seconds) and `connection_name` are honoured.
    /// - Throws: ``AMQPError`` `.invalidConfiguration` naming what is wrong (never echoing the password).
    public init(url: String) throws {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased() else {
            throw AMQPError(.invalidConfiguration, "not a URL; expected amqp://user:pass@host:port/vhost")
        }
        switch scheme {
        case "amqp": port = 5672
        case "amqps":
            port = 5671
            tls = TLS()
        default:
            throw AMQPError(.invalidConfiguration, "unsupported scheme '\(scheme)'; use amqp:// or amqps://")
        }
        if let host = components.host, !host.isEmpty { self.host = host }
        if let port = components.port {
            guard (1...65535).contains(port) else { throw AMQPError(.invalidConfiguration, "port \(port) out of range") }
            self.port = port
        }
        if let user = components.user { self.user = user.removingPercentEncoding ?? user }
        if let password = components.password { self.password = password.removingPercentEncoding ?? password }
        let path = components.percentEncodedPath
        if path.isEmpty || path == "/" {
            virtualHost = "/"
        } else {
            let raw = String(path.dropFirst())
            guard !raw.contains("/") else {
                throw AMQPError(.invalidConfiguration, "vhost must be one path segment (encode '/' as %2F)")
            }
            virtualHost = raw.removingPercentEncoding ?? raw
        }
        for item in components.queryItems ?? [] {
            switch item.name {
            case "heartbeat":
                // AMQP negotiates the heartbeat as a 16-bit number of seconds.
                guard let seconds = item.value.flatMap(Int.init), (0...65535).contains(seconds) else {
                    throw AMQPError(.invalidConfiguration, "heartbeat must be a whole number of seconds in 0...65535")
                }
                heartbeat = .seconds(seconds)
            case "connection_name":
                if let value = item.value { connectionName = value }
            default: continue
            }
        }
    }

    /// `host:port`, for messages.
    public var endpoint: String { "\(host):\(port)" }

    /// The URL without its password, safe to log.
    public var redactedURL: String {
        let vhost = virtualHost.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? virtualHost
        return "\(tls == nil ? "amqp" : "amqps")://\(user)@\(host):\(port)/\(vhost)"
    }
}

/// Exponential backoff with full jitter for reconnects: attempt n waits a random time in [0, min(cap, base·2ⁿ)].
public struct AMQPReconnectPolicy: Sendable {
    /// First delay bound. Default 100 ms.
    public var initialDelay: Duration = .milliseconds(100)
    /// Upper bound of any single delay. Default 10 s.
    public var maximumDelay: Duration = .seconds(10)
    /// Give up after this many failed attempts in a row; `nil` retries forever. Default `nil`.
    public var maximumAttempts: Int? = nil

    public init(initialDelay: Duration = .milliseconds(100), maximumDelay: Duration = .seconds(10),
                maximumAttempts: Int? = nil) {
        self.initialDelay = initialDelay
        self.maximumDelay = maximumDelay
        self.maximumAttempts = maximumAttempts
    }

    /// The delay before reconnect attempt `attempt` (0-based), given a random fraction in [0, 1).
    public func delay(forAttempt attempt: Int, randomFraction: Double) -> Duration {
        let exponent = min(attempt, 30)
        let bound = min(maximumDelay, initialDelay * (1 << exponent))
        return bound * max(0, min(randomFraction, 1))
    }
}
