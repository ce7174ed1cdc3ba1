import Foundation

/// How to reach and talk to a broker. A value type with documented defaults; validated once in `init`.
public struct AMQPConfiguration: Sendable {
    /// TLS settings for `amqps://`.
    public struct TLS: Sendable, Equatable {
        /// PEM file with the CA certificates to trust; `nil` uses librabbitmq's default (none: set one).
        public var caCertificatePath: String?
        /// Verify the broker's certificate and host name. Default `true`.
        public var verifyPeer: Bool = true
        /// PEM client certificate (chain) presented to a broker that asks for one, with its PEM private key
        /// ``clientKeyPath``: both or neither (`amqp_ssl_socket_set_key`). Default `nil`: no client certificate.
        public var clientCertificatePath: String?
        /// The unencrypted PEM private key of ``clientCertificatePath``.
        public var clientKeyPath: String?
        public init(caCertificatePath: String? = nil, verifyPeer: Bool = true, clientCertificatePath: String? = nil,
                    clientKeyPath: String? = nil) {
            self.caCertificatePath = caCertificatePath
            self.verifyPeer = verifyPeer
            self.clientCertificatePath = clientCertificatePath
            self.clientKeyPath = clientKeyPath
        }
    }

    /// The first node: what ``host``, ``port``, ``user``, ``password`` and ``tls`` read and write.
    private var firstNode = AMQPNode()
    /// The nodes after the first, in the order listed (a cluster: see ``nodes``). Default none.
    public var otherNodes: [AMQPNode] = []
    /// Every node the connection may use: the first (``host``, ``port``, ``user``, ``password``, ``tls``), then
    /// ``otherNodes``. Connecting tries them in ``nodeOrder`` until one accepts; recovery moves on to the next.
    public var nodes: [AMQPNode] { [firstNode] + otherNodes }
    /// The order connecting tries ``nodes`` in. Default ``AMQPNodeOrder/shuffled`` (one node: no difference).
    public var nodeOrder: AMQPNodeOrder = .shuffled

    /// Broker host (of the first node). Default `127.0.0.1`.
    public var host: String {
        get { firstNode.host }
        set { firstNode.host = newValue }
    }
    /// Broker port (of the first node). Default 5672 (5671 for `amqps`).
    public var port: Int {
        get { firstNode.port }
        set { firstNode.port = newValue }
    }
    /// Virtual host, the same on every node. Default `/`.
    public var virtualHost: String = "/"
    /// User name (of the first node). Default `guest`.
    public var user: String {
        get { firstNode.user }
        set { firstNode.user = newValue }
    }
    /// Password (of the first node); never logged nor shown in errors.
    public var password: String {
        get { firstNode.password }
        set { firstNode.password = newValue }
    }
    /// TLS (of the first node), when connecting with `amqps://`. Default `nil` (plain TCP).
    public var tls: TLS? {
        get { firstNode.tls }
        set { firstNode.tls = newValue }
    }
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
    ///
    /// Several nodes of a cluster: comma-separated URLs (`amqp://u:p@h1/vh,amqps://u:p@h2/vh`), at most
    /// ``maximumNodes`` of them and ``maximumURLTextBytes`` in all. Each URL may carry its own credentials and TLS;
    /// all must name the same vhost, no `host:port` twice, and `heartbeat` / `connection_name` given on several
    /// URLs must agree. A comma inside a URL (a password) does not split it: only a comma followed by `amqp://` or
    /// `amqps://` starts the next URL.
    /// - Throws: ``AMQPError`` `.invalidConfiguration` naming what is wrong (never echoing the password).
    public init(url: String) throws {
        guard url.utf8.count <= Self.maximumURLTextBytes else {
            throw AMQPError(.invalidConfiguration, "the broker URL setting is longer than "
                                + "\(Self.maximumURLTextBytes) bytes")
        }
        let entries = Self.splitURLList(url)
        guard entries.count > 1 else {
            try self.init(parsed: Self.parse(url))
            return
        }
        try self.init(list: entries)
    }

    init(parsed: ParsedURL) {
        firstNode = parsed.node
        virtualHost = parsed.virtualHost
        if let heartbeat = parsed.heartbeat { self.heartbeat = heartbeat }
        if let name = parsed.connectionName { connectionName = name }
    }

    /// `host:port` of the first node, for messages (a connection names the node it is on:
    /// ``AMQPConnection/currentNode``).
    public var endpoint: String { "\(host):\(port)" }

    /// Every node's `host:port`, in the order listed, comma-separated (one node: ``endpoint``).
    public var endpointList: String { nodes.map(\.endpoint).joined(separator: ", ") }

    /// The URL without its password, safe to log; several nodes: each one's, comma-separated.
    public var redactedURL: String {
        nodes.map { $0.redactedURL(virtualHost: virtualHost) }.joined(separator: ",")
    }

    /// Applies `body` to the TLS settings of every `amqps://` node (the first and ``otherNodes``); `amqp://` nodes
    /// are left as they are.
    public mutating func updateTLS(_ body: (inout TLS) -> Void) {
        if var tls = firstNode.tls {
            body(&tls)
            firstNode.tls = tls
        }
        for index in otherNodes.indices {
            guard var tls = otherNodes[index].tls else { continue }
            body(&tls)
            otherNodes[index].tls = tls
        }
    }

    /// This configuration on `nodes[index]` alone: what one connection attempt opens.
    func on(node index: Int) -> AMQPConfiguration {
        var single = self
        single.firstNode = nodes[index]
        single.otherNodes = []
        return single
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
