import AMQPValues
import Foundation
import PayBridgeRules
import PayBridgeContract
import PaymentVocabulary

/// Command deliveries as the worker receives them, for tests without a broker.
package enum CommandDeliveryFixtures {
    /// When the rules decide, in the tests (`2026-11-18T11:06:40Z`).
    package static let time = Date(timeIntervalSince1970: 1_795_000_000)
    /// ``time`` as the dead-letter header writes it.
    package static let timeText = "2026-11-18T11:06:40.000Z"

    package static let purchaseData = #"{"paymentId":"payment_812","amount":"250.51","currency":"BDT","customerEmail":"a@b.c"}"#
    package static let statusData = #"{"paymentId":"payment_812","paymentType":"purchase"}"#

    /// A valid command envelope around `data`.
    package static func body(_ kind: PaymentCommandKind, id: String = "cmd-1", data: String) -> [UInt8] {
        Array(
            """
            {"specversion":"1.0","id":"\(id)","type":"\(kind.type)","source":"/tests","time":"2026-11-21T06:00:00Z",\
            "datacontenttype":"application/json","data":\(data)}
            """.utf8)
    }

    /// A delivery of `body`: a first delivery under `routingKey`, or (with `attempt`) a broker-side retry coming
    /// back through `payments.retry.return` with PayBridge's headers.
    package static func delivery(
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

    package static func purchase(attempt: Int? = nil, redelivered: Bool = false) -> CommandDelivery {
        delivery(body(.amanpayPurchase, data: purchaseData), attempt: attempt, redelivered: redelivered)
    }

    package static func status(attempt: Int? = nil) -> CommandDelivery {
        delivery(body(.amanpayStatus, data: statusData), routingKey: "amanpay.status", attempt: attempt)
    }

    package static func failure(_ errorClass: ErrorClass, _ code: String, raw: String? = nil) -> ProviderError {
        ProviderError(provider: .amanpay, operation: "purchase", errorClass: errorClass,
                      code: ProviderError.Code(rawValue: code),
                      message: "\(code) happened", rawBody: raw)
    }

    /// The fixtures' properties as forwarded: persistent, with PayBridge's two headers (a retried fixture already
    /// carries them: they are replaced where they stand).
    package static func forwardedProperties(attempt: Int, originalRoutingKey: String) -> AMQPProperties {
        var properties = delivery([]).properties
        properties.headers = [
            "x-paybridge-attempt": .int32(Int32(attempt)),
            "x-paybridge-original-routing-key": .string(originalRoutingKey),
        ]
        return properties
    }

    package static func deadLetterProperties(
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

package struct Unexpected: Error, CustomStringConvertible {
    package var what: String
    package init(what: String) { self.what = what }
    package var description: String { what }
}
