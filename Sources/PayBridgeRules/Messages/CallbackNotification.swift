import AMQPValues
import Foundation
import PayBridgeContract
import PaymentVocabulary

/// A verified callback or postback, stored by the callback endpoint on its provider's command queue for a worker to
/// confirm with a status read ("store, then acknowledge").
///
/// On the queue it is the callback body byte for byte, published to `payments.internal` with routing key
/// `payments.<provider>`, persistent, `message_id` = ``id``, and PayBridge's headers: ``Topology/Headers/notification``
/// = `callback`, the original routing key `<provider>.callback` (so retries and dead letters work as for commands),
/// the time it was received and, for Amanpay, the `Authorization` header (the worker verifies the body again before
/// it acts on it).
package struct CallbackNotification: Equatable, Sendable {
    /// The value of ``Topology/Headers/notification`` that marks a callback notification.
    package static let marker = "callback"

    package var provider: Provider
    /// The merchant account of the path the callback arrived on (``Topology/Headers/account``; `default` when the
    /// header is absent, as on notifications stored before accounts existed). `nil` when the header is present but
    /// not an account name: the worker dead-letters such a notification (`UNKNOWN_ACCOUNT`).
    package var account: MerchantAccount?
    /// The callback body as received.
    package var body: [UInt8]
    /// The callback's `Authorization` header (Amanpay's A2 signature); `nil` for FirstPay (the hash is in the body).
    package var signature: String?
    /// When the endpoint received the callback, RFC 3339 with milliseconds.
    package var receivedAt: String
    /// One per callback delivery: a provider's resend is a new notification. Part of the event id.
    package var id: String

    /// The AMQP properties it is stored with.
    package var properties: AMQPProperties {
        var headers: AMQPTable = [
            Topology.Headers.notification: .string(Self.marker),
            Topology.Headers.originalRoutingKey: .string(Topology.callbackRoutingKey(provider)),
            Topology.Headers.receivedAt: .string(receivedAt),
        ]
        if let signature { headers[Topology.Headers.callbackSignature] = .string(signature) }
        if let account, account != .default { headers[Topology.Headers.account] = .string(account.name) }
        return AMQPProperties(contentType: "application/json", headers: headers, persistent: true, messageId: id,
                              appId: "paybridge")
    }

    /// The queue it is stored on: the provider's command queue, so the provider's workers, retries, pauses and
    /// dead letters apply to it as to commands.
    package var queue: String { Topology.commandQueue(provider) }

    /// Whether a delivery is a callback notification (its ``Topology/Headers/notification`` header says so).
    package static func isNotification(_ delivery: CommandDelivery) -> Bool {
        delivery.properties.headers?[Topology.Headers.notification]?.stringValue == marker
    }

    /// The notification a delivery carries. The id falls back to a digest of the body when the message has no
    /// `message_id`; the receipt time to `now` when the header is missing or unreadable.
    package init(delivery: CommandDelivery, provider: Provider, now: Date) {
        let headers = delivery.properties.headers
        self.provider = provider
        account = headers?[Topology.Headers.account].map { $0.stringValue.flatMap { MerchantAccount($0) } } ?? .default
        body = delivery.body
        signature = headers?[Topology.Headers.callbackSignature]?.stringValue
        receivedAt = headers?[Topology.Headers.receivedAt]?.stringValue.flatMap(Self.timestamp) ?? RFC3339.string(from: now)
        let messageId = delivery.properties.messageId ?? ""
        id = messageId.isEmpty || messageId.utf8.count > 200
            ? "body-sha256:" + EventID.sha256Hex(delivery.body) : messageId
    }

    package init(provider: Provider, account: MerchantAccount = .default, body: [UInt8], signature: String?, receivedAt: Date,
         id: String) {
        self.provider = provider
        self.account = account
        self.body = body
        self.signature = signature
        self.receivedAt = RFC3339.string(from: receivedAt)
        self.id = id
    }

    /// A header's time when it looks like the RFC 3339 UTC text PayBridge writes (`2026-11-21T06:00:01.250Z`):
    /// digits and separators only, at most 40 characters. Anything else is not passed on into an event.
    package static func timestamp(_ text: String) -> String? {
        let bytes = Array(text.utf8)
        guard (20...40).contains(bytes.count), bytes[4] == UInt8(ascii: "-"), bytes[10] == UInt8(ascii: "T"),
            bytes.last == UInt8(ascii: "Z"),
            bytes.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || "-:.TZ".utf8.contains($0) })
        else { return nil }
        return text
    }
}
