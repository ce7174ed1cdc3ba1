import Foundation

/// AMQP basic properties of a message. `nil` means "not set" (the flag is not sent).
public struct AMQPProperties: Sendable, Hashable {
    /// The most an AMQP short string carries (table keys, most properties, exchange names, routing keys).
    public static let maximumShortStringBytes = 255

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
    /// What could not be decoded exactly on a received message (empty when everything was). Never sent.
    public var decodingProblems: AMQPDecodingProblems = []

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

/// Ways a received message's properties can differ from what the producer sent.
public struct AMQPDecodingProblems: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// Header tables or arrays nested deeper than ``AMQPTable/maximumDecodedDepth``: the deeper values were not
    /// decoded and read as `.void`.
    public static let headersTooDeep = AMQPDecodingProblems(rawValue: 1 << 0)
    /// A property, header key or header string that is not UTF-8: read with U+FFFD replacements, so it may be
    /// longer than the 255 bytes a short string can carry and must not be sent on as it is.
    public static let notUTF8 = AMQPDecodingProblems(rawValue: 1 << 1)
}
