public import AMQP
import Foundation
public import PayBridgeContract

/// An outcome event as read from `payments.outcomes`: the AMQP envelope and, when the body is a CloudEvent, the
/// parsed event.
public struct ReceivedEvent: Sendable {
    /// The routing key it was published with, e.g. `amanpay.purchase.response`.
    public var routingKey: String
    /// Its AMQP properties (`correlation_id` = command id, `message_id` = event id).
    public var properties: AMQPProperties
    /// The raw body.
    public var body: [UInt8]
    /// The parsed CloudEvent, `nil` when the body is not one.
    public var event: CloudEvent?

    /// - Parameters:
    ///   - routingKey: routing key of the message.
    ///   - properties: AMQP properties.
    ///   - body: body bytes; parsed as a CloudEvent when possible.
    public init(routingKey: String, properties: AMQPProperties, body: [UInt8]) {
        self.routingKey = routingKey
        self.properties = properties
        self.body = body
        self.event = try? CloudEvent.parse(body)
    }

    /// The CloudEvents type (else the AMQP `type` property).
    public var type: String? { event?.type ?? properties.type }

    /// `data.status` (`processing`, `succeeded`, …).
    public var status: String? { event?.data?["status"]?.stringValue }

    /// True when nothing more will follow for this command: a `command.failed` or `payment.unresolved` event, or
    /// `data.final == true`.
    public var endsCommand: Bool {
        type == OutcomeEvents.commandFailedType || type == OutcomeEvents.unresolvedType
            || event?.data?["final"]?.boolValue == true
    }
}
