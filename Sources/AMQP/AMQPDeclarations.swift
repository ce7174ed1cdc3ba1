/// Exchange types this client declares.
public struct AMQPExchangeType: Sendable, Hashable, CustomStringConvertible {
    public let rawValue: String
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public static let direct = AMQPExchangeType("direct")
    public static let topic = AMQPExchangeType("topic")
    public static let fanout = AMQPExchangeType("fanout")
    public static let headers = AMQPExchangeType("headers")
    public var description: String { rawValue }
}

/// An exchange declaration. Declared exchanges are re-declared after a reconnect (unless `passive`).
public struct AMQPExchange: Sendable, Hashable {
    public var name: String
    public var type: AMQPExchangeType
    public var durable: Bool
    public var autoDelete: Bool
    public var isInternal: Bool
    /// Only check that the exchange exists (404 NOT_FOUND when it does not).
    public var passive: Bool
    public var arguments: AMQPTable

    public init(_ name: String, type: AMQPExchangeType = .topic, durable: Bool = true, autoDelete: Bool = false,
                isInternal: Bool = false, passive: Bool = false, arguments: AMQPTable = [:]) {
        self.name = name
        self.type = type
        self.durable = durable
        self.autoDelete = autoDelete
        self.isInternal = isInternal
        self.passive = passive
        self.arguments = arguments
    }
}

/// A queue declaration: classic, quorum or stream, with dead-lettering, delivery limit and TTL as typed arguments.
public struct AMQPQueue: Sendable, Hashable {
    /// The queue type (`x-queue-type`; classic sends none). A stream is an append-only log: consumers need a
    /// prefetch and manual acks, and read from an offset (`x-stream-offset`) without removing anything; retention
    /// (`x-max-age`, `x-max-length-bytes`) goes in ``arguments``.
    public enum Kind: String, Sendable, Hashable { case classic, quorum, stream }

    public var name: String
    public var kind: Kind
    public var durable: Bool
    public var exclusive: Bool
    public var autoDelete: Bool
    /// Only check that the queue exists (404 NOT_FOUND when it does not).
    public var passive: Bool
    /// `x-dead-letter-exchange`.
    public var deadLetterExchange: String?
    /// `x-dead-letter-routing-key`.
    public var deadLetterRoutingKey: String?
    /// `x-delivery-limit` (quorum queues): after this many redeliveries the message is dead-lettered.
    public var deliveryLimit: Int?
    /// `x-message-ttl` in milliseconds.
    public var messageTTLMilliseconds: Int?
    /// `x-expires` in milliseconds: the queue is deleted after this long unused.
    public var expiresMilliseconds: Int?
    /// Further arguments, merged after the typed ones.
    public var arguments: AMQPTable

    public init(
        _ name: String, kind: Kind = .classic, durable: Bool = true, exclusive: Bool = false, autoDelete: Bool = false,
        passive: Bool = false, deadLetterExchange: String? = nil, deadLetterRoutingKey: String? = nil,
        deliveryLimit: Int? = nil, messageTTLMilliseconds: Int? = nil, expiresMilliseconds: Int? = nil,
        arguments: AMQPTable = [:]
    ) {
        self.name = name
        self.kind = kind
        self.durable = durable
        self.exclusive = exclusive
        self.autoDelete = autoDelete
        self.passive = passive
        self.deadLetterExchange = deadLetterExchange
        self.deadLetterRoutingKey = deadLetterRoutingKey
        self.deliveryLimit = deliveryLimit
        self.messageTTLMilliseconds = messageTTLMilliseconds
        self.expiresMilliseconds = expiresMilliseconds
        self.arguments = arguments
    }

    /// The `x-…` arguments sent with `queue.declare`.
    public var declareArguments: AMQPTable {
        var table = AMQPTable()
        if kind != .classic { table["x-queue-type"] = .string(kind.rawValue) }
        if let deadLetterExchange { table["x-dead-letter-exchange"] = .string(deadLetterExchange) }
        if let deadLetterRoutingKey { table["x-dead-letter-routing-key"] = .string(deadLetterRoutingKey) }
        if let deliveryLimit { table["x-delivery-limit"] = .int64(Int64(deliveryLimit)) }
        if let messageTTLMilliseconds { table["x-message-ttl"] = .int64(Int64(messageTTLMilliseconds)) }
        if let expiresMilliseconds { table["x-expires"] = .int64(Int64(expiresMilliseconds)) }
        for (key, value) in arguments { table[key] = value }
        return table
    }
}

/// A binding of a queue to an exchange.
public struct AMQPBinding: Sendable, Hashable {
    public var queue: String
    public var exchange: String
    public var routingKey: String
    public var arguments: AMQPTable
    public init(queue: String, exchange: String, routingKey: String, arguments: AMQPTable = [:]) {
        self.queue = queue
        self.exchange = exchange
        self.routingKey = routingKey
        self.arguments = arguments
    }
}

/// What `queue.declare-ok` reported.
public struct AMQPQueueState: Sendable, Hashable {
    public var name: String
    public var messageCount: UInt32
    public var consumerCount: UInt32
}
