/// AMQP basic properties for an outcome event. The publisher maps them onto its AMQP library's properties.
public struct OutcomeMessageProperties: Sendable, Equatable {
    /// `message_id` = the event id.
    public let messageId: String
    /// `correlation_id` = the command id (`nil` for callbacks).
    public let correlationId: String?
    /// `type` = the CloudEvents type.
    public let type: String
    /// `content_type` = `application/cloudevents+json`.
    public let contentType: String
    /// `delivery_mode` = 2 (persistent).
    public let deliveryMode: UInt8
    /// `timestamp`, seconds since 1970 (AMQP timestamps have second resolution).
    public let timestamp: Int64
    /// `app_id` = `paybridge`.
    public let appId: String
}
