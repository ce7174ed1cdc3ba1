/// AMQP basic properties of a contract message (command or outcome event), mirroring the CloudEvents envelope. The
/// publisher maps them onto its AMQP library's properties.
public struct MessageProperties: Sendable, Equatable {
    /// `message_id` = the CloudEvents `id` (event id, or command id for commands).
    public let messageId: String
    /// `correlation_id`: for events the command id (`nil` for callbacks); for commands `nil`.
    public let correlationId: String?
    /// `type` = the CloudEvents type.
    public let type: String
    /// `content_type` = `application/cloudevents+json`.
    public let contentType: String
    /// `delivery_mode` = 2 (persistent).
    public let deliveryMode: UInt8
    /// `timestamp`, seconds since 1970 (AMQP timestamps have second resolution).
    public let timestamp: Int64
    /// `app_id` = `paybridge` (the publishing application).
    public let appId: String
}
