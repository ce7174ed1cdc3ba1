import AMQP
import Foundation
@testable import PayBridge
import PayBridgeContract
import ProviderCore

/// Command deliveries as the worker receives them, for tests without a broker.
enum CommandDeliveryFixtures {
    /// When the rules decide, in the tests (`2026-11-18T11:06:40Z`).
    static let time = Date(timeIntervalSince1970: 1_795_000_000)
    /// ``time`` as the dead-letter header writes it.
    static let timeText = "2026-11-18T11:06:40.000Z"

    static let purchaseData = #"{"paymentId":"payment_812","amount":"250.51","currency":"BDT","customerEmail":"a@b.c"}"#
    static let statusData = #"{"paymentId":"payment_812","paymentType":"purchase"}"#

    /// A valid command envelope around `data`.
    static func body(_ kind: PaymentCommandKind, id: String = "cmd-1", data: String) -> [UInt8] {
        Array(
            """
            {"specversion":"1.0","id":"\(id)","type":"\(kind.type)","source":"/tests","time":"2026-11-21T06:00:00Z",\
            "datacontenttype":"application/json","data":\(data)}
            """.utf8)
    }

    /// A delivery of `body`: a first delivery under `routingKey`, or (with `attempt`) a broker-side retry coming
    /// back through `payments.retry.return` with PayBridge's headers.
    static func delivery(
        _ body: [UInt8], routingKey: String = "amanpay.purchase", attempt: Int? = nil, redelivered: Bool = false
    ) -> CommandDelivery {
        var properties = AMQPProperties(contentType: "application/cloudevents+json", persistent: true,
                                        messageId: "cmd-1")
        var key = routingKey
        var exchange = Topology.commandsExchange
        if let attempt {
            exchange = Topology.retryReturnExchange
            properties.headers = [Topology.Headers.attempt: .int32(Int32(attempt)),
                                  Topology.Headers.originalRoutingKey: .string(routingKey)]
            key = Topology.retryReturnRoutingKey(.amanpay)
        }
        return CommandDelivery(body: body, properties: properties, routingKey: key, redelivered: redelivered,
                               deliveryTag: 7, exchange: exchange)
    }

    static func purchase(attempt: Int? = nil, redelivered: Bool = false) -> CommandDelivery {
        delivery(body(.amanpayPurchase, data: purchaseData), attempt: attempt, redelivered: redelivered)
    }

    static func status(attempt: Int? = nil) -> CommandDelivery {
        delivery(body(.amanpayStatus, data: statusData), routingKey: "amanpay.status", attempt: attempt)
    }

    static func failure(_ errorClass: ErrorClass, _ code: String, raw: String? = nil) -> ProviderError {
        ProviderError(provider: .amanpay, operation: "purchase", errorClass: errorClass, code: code,
                      message: "\(code) happened", rawBody: raw)
    }

    /// The fixtures' properties as forwarded: persistent, with PayBridge's two headers (a retried fixture already
    /// carries them: they are replaced where they stand).
    static func forwardedProperties(attempt: Int, originalRoutingKey: String) -> AMQPProperties {
        var properties = delivery([]).properties
        properties.headers = [
            "x-paybridge-attempt": .int32(Int32(attempt)),
            "x-paybridge-original-routing-key": .string(originalRoutingKey),
        ]
        return properties
    }

    static func deadLetterProperties(
        producer: AMQPProperties, attempt: Int, originalRoutingKey: String, reason: String, code: String,
        detail: String, failedEventId: String
    ) -> AMQPProperties {
        var properties = producer
        properties.persistent = true
        properties.headers = [
            "x-paybridge-attempt": .int32(Int32(attempt)),
            "x-paybridge-original-routing-key": .string(originalRoutingKey),
            "x-paybridge-dead-letter-reason": .string(reason),
            "x-paybridge-dead-letter-code": .string(code),
            "x-paybridge-dead-letter-detail": .string(detail),
            "x-paybridge-dead-lettered-at": .string(timeText),
            "x-paybridge-source-queue": .string("payments.amanpay"),
            "x-paybridge-failed-event-id": .string(failedEventId),
        ]
        return properties
    }
}

struct Unexpected: Error, CustomStringConvertible {
    var what: String
    var description: String { what }
}
