/// A message to publish with ``AMQPConnection/publish(batch:)``.
public struct AMQPMessage: Sendable {
    public var body: [UInt8]
    public var exchange: String
    public var routingKey: String
    /// When `true`, an unroutable message fails with `.unroutable` instead of vanishing.
    public var mandatory: Bool
    public var properties: AMQPProperties

    public init(body: [UInt8], exchange: String, routingKey: String, mandatory: Bool = false,
                properties: AMQPProperties = AMQPProperties()) {
        self.body = body
        self.exchange = exchange
        self.routingKey = routingKey
        self.mandatory = mandatory
        self.properties = properties
    }
}
