import Foundation

/// AMQP basic properties of a message. `nil` means "not set" (the flag is not sent).
public struct AMQPProperties: Sendable, Hashable {
    public var contentType: String?
    public var contentEncoding: String?
    public var headers: AMQPTable?
    /// `true` = delivery mode 2 (persistent), `false` = 1 (transient), `nil` = not set.
    public var persistent: Bool?
    public var priority: UInt8?
    public var correlationId: String?
    public var replyTo: String?
    /// Per-message TTL in milliseconds, as the decimal string AMQP requires.
    public var expiration: String?
    public var messageId: String?
    /// Seconds since the Unix epoch (AMQP timestamps have one-second resolution).
    public var timestamp: UInt64?
    public var type: String?
    public var userId: String?
    public var appId: String?
    /// Set on a received message whose headers nest tables or arrays deeper than
    /// ``AMQPTable/maximumDecodedDepth``: the deeper values were not decoded and read as `.void`. Never sent.
    public var headersTruncated: Bool = false

    public init(
        contentType: String? = nil, contentEncoding: String? = nil, headers: AMQPTable? = nil,
        persistent: Bool? = nil, priority: UInt8? = nil, correlationId: String? = nil, replyTo: String? = nil,
        expiration: String? = nil, messageId: String? = nil, timestamp: UInt64? = nil, type: String? = nil,
        userId: String? = nil, appId: String? = nil
    ) {
        self.contentType = contentType
        self.contentEncoding = contentEncoding
        self.headers = headers
        self.persistent = persistent
        self.priority = priority
        self.correlationId = correlationId
        self.replyTo = replyTo
        self.expiration = expiration
        self.messageId = messageId
        self.timestamp = timestamp
        self.type = type
        self.userId = userId
        self.appId = appId
    }
}
