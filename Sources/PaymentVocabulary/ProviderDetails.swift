import StrictJSON

/// What a provider's body says beyond the common fields, named once: by the provider's client, as it reads the
/// body. Events carry them as named fields (``fields``); everything else stays in the event's `raw` only.
///
/// | Provider | Body field | Event field |
/// |---|---|---|
/// | FirstPay | `paymentMethodId`, `merchantUserId`, `failedCode` | same name (strings) |
/// | FirstPay | `createdAt` | `providerCreatedAt` (string, as the provider wrote it) |
/// | FirstPay | `attachment` | `attachment` (`{"id", "url"}`, strings only) |
/// | Amanpay | `customerName` | `customerName` |
///
/// Only strings (and numbers, as their text) of at most ``maximumLength`` characters are taken (``text(_:)``).
public struct ProviderDetails: Sendable, Hashable {
    public static let maximumLength = 2048

    /// FirstPay's `attachment`: what the customer uploaded.
    public struct Attachment: Sendable, Hashable {
        public var id: String?
        public var url: String?
        public init(id: String? = nil, url: String? = nil) {
            self.id = id
            self.url = url
        }
    }

    public var paymentMethodId: String?
    public var merchantUserId: String?
    public var failedCode: String?
    public var providerCreatedAt: String?
    public var attachment: Attachment?
    public var customerName: String?

    public init(paymentMethodId: String? = nil, merchantUserId: String? = nil, failedCode: String? = nil,
                providerCreatedAt: String? = nil, attachment: Attachment? = nil, customerName: String? = nil) {
        self.paymentMethodId = paymentMethodId
        self.merchantUserId = merchantUserId
        self.failedCode = failedCode
        self.providerCreatedAt = providerCreatedAt
        self.attachment = attachment
        self.customerName = customerName
    }

    /// The event's named fields, in this order: `paymentMethodId`, `merchantUserId`, `failedCode`,
    /// `providerCreatedAt`, `attachment`, `customerName` (absent ones left out).
    public var fields: JSONObject {
        var out: JSONObject = [:]
        if let paymentMethodId { out["paymentMethodId"] = .string(paymentMethodId) }
        if let merchantUserId { out["merchantUserId"] = .string(merchantUserId) }
        if let failedCode { out["failedCode"] = .string(failedCode) }
        if let providerCreatedAt { out["providerCreatedAt"] = .string(providerCreatedAt) }
        if let attachment, attachment.id != nil || attachment.url != nil {
            var object: JSONObject = [:]
            if let id = attachment.id { object["id"] = .string(id) }
            if let url = attachment.url { object["url"] = .string(url) }
            out["attachment"] = .object(object)
        }
        if let customerName { out["customerName"] = .string(customerName) }
        return out
    }

    /// A string (or a number's text) of 1 ... ``maximumLength`` characters, else `nil`.
    public static func text(_ value: JSONValue?) -> String? {
        guard let value else { return nil }
        let text = value.stringValue ?? value.numberValue?.text
        guard let text, !text.isEmpty, text.count <= maximumLength else { return nil }
        return text
    }
}
