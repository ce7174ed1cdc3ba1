import PaymentVocabulary
import StrictJSON

/// The provider data an event names beyond the common fields (issue 11, part 6), read from the provider's body.
///
/// | Provider | Body field | Event field |
/// |---|---|---|
/// | FirstPay | `paymentMethodId`, `merchantUserId`, `failedCode` | same name (strings) |
/// | FirstPay | `createdAt` | `providerCreatedAt` (string, as the provider wrote it) |
/// | FirstPay | `attachment` | `attachment` (`{"id", "url"}`, strings only) |
/// | Amanpay | `customerName` | `customerName` |
///
/// Only strings (and numbers, as their text) of at most ``maximumLength`` characters are taken; anything else is
/// left in `raw` only.
public enum ProviderDetails {
    public static let maximumLength = 2048

    /// The named fields found in `body` for `provider`.
    public static func fields(provider: Provider, body: JSONValue) -> JSONObject {
        var out: JSONObject = [:]
        switch provider {
        case .firstpay:
            for key in ["paymentMethodId", "merchantUserId", "failedCode"] {
                if let text = text(body[key]) { out[key] = .string(text) }
            }
            if let text = text(body["createdAt"]) { out["providerCreatedAt"] = .string(text) }
            if let attachment = body["attachment"], attachment.objectMembers != nil {
                var object: JSONObject = [:]
                for key in ["id", "url"] {
                    if let text = text(attachment[key]) { object[key] = .string(text) }
                }
                if !object.members.isEmpty { out["attachment"] = .object(object) }
            }
        case .amanpay:
            if let text = text(body["customerName"]) { out["customerName"] = .string(text) }
        }
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
