import Foundation
import PaymentVocabulary
import StrictJSON

/// PayBridge's answer to a ``PaymentMethodsQuery`` (`paybridge.firstpay.payment_methods.reply.v1`): FirstPay's
/// methods, or the error, as a CloudEvent published to the default exchange with routing key = the query's
/// `reply_to`. Schema: `schemas/replies/firstpay.payment_methods.reply.v1.schema.json`.
public struct PaymentMethodsReply: Sendable, Equatable {
    /// The CloudEvents type (and AMQP `type` property) of a reply.
    public static let type = "paybridge.firstpay.payment_methods.reply.v1"
    /// At most this many methods, and this many client fields per method, are read from FirstPay's answer.
    public static let maximumMethods = 500
    public static let maximumFieldsPerMethod = 100

    /// Where the reply goes.
    public let address: PaymentMethodsQuery.ReplyAddress
    /// The reply.
    public let event: CloudEvent
    /// How many methods it lists; `nil` for an error reply.
    public let methodCount: Int?
    /// The error's code and class, for an error reply.
    public let error: (code: String, errorClass: ErrorClass)?

    /// The message body: the CloudEvent in structured JSON.
    public var body: [UInt8] { event.serialized() }

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.address == rhs.address && lhs.event == rhs.event && lhs.methodCount == rhs.methodCount
            && lhs.error?.code == rhs.error?.code && lhs.error?.errorClass == rhs.error?.errorClass
    }

    /// The reply listing the methods in FirstPay's `answer` (a list, or one method object when the query named
    /// `methodId`). An answer of another shape is an error reply (`MALFORMED_RESPONSE`, `provider_error`).
    /// `pii` masks account numbers in each method's `raw` as events do.
    public static func methods(_ answer: JSONValue, for query: PaymentMethodsQuery, pii: EventPII,
                               at time: Date) -> PaymentMethodsReply {
        let objects: [JSONValue]
        switch answer {
        case .array(let list): objects = list
        case .object: objects = [answer]
        default:
            return failure(code: "MALFORMED_RESPONSE", message: "FirstPay's payment methods are not a list or a method",
                           errorClass: .providerError, queryId: query.id, merchantPaymentId: query.merchantPaymentId,
                           account: query.account, to: query.reply, at: time)
        }
        let methods = objects.prefix(maximumMethods).compactMap { method(from: $0, pii: pii) }
        let data: JSONObject = [
            "queryId": .string(query.id), "provider": .string(Provider.firstpay.rawValue),
            "account": .string(query.account.name), "methods": .array(methods),
        ]
        return PaymentMethodsReply(address: query.reply,
                                   event: event(data, queryId: query.id, subject: query.merchantPaymentId, at: time),
                                   methodCount: methods.count, error: nil)
    }

    /// An error reply.
    public static func failure(
        code: String, message: String, errorClass: ErrorClass, queryId: String?, merchantPaymentId: String?,
        account: MerchantAccount, to address: PaymentMethodsQuery.ReplyAddress, at time: Date
    ) -> PaymentMethodsReply {
        let error: JSONObject = ["code": .string(code), "message": .string(message),
                                 "class": .string(errorClass.rawValue)]
        let data: JSONObject = [
            "queryId": queryId.map(JSONValue.string) ?? .null, "provider": .string(Provider.firstpay.rawValue),
            "account": .string(account.name), "error": .object(error),
        ]
        return PaymentMethodsReply(address: address,
                                   event: event(data, queryId: queryId, subject: merchantPaymentId, at: time),
                                   methodCount: nil, error: (code, errorClass))
    }

    private static func event(_ data: JSONObject, queryId: String?, subject: String?, at time: Date) -> CloudEvent {
        let stamp = RFC3339.string(from: time)
        // Unique per query and instant; replies are not deduplicated by anyone, so no more is needed.
        let id = String(EventID.sha256Hex(Array("\(Self.type)|\(queryId ?? "-")|\(stamp)".utf8)).prefix(32))
        return CloudEvent(id: id, type: Self.type, source: "/paybridge/worker", time: stamp, subject: subject,
                          data: .object(data))
    }

    /// One method of FirstPay's (undocumented) method object, as the reply names it; `nil` for an entry that is not
    /// an object with an `id`.
    static func method(from value: JSONValue, pii: EventPII) -> JSONValue? {
        guard case .object = value, let id = value["id"]?.scalarText, !id.isEmpty else { return nil }
        var members: [JSONMember] = [JSONMember("id", .string(id))]
        func text(_ name: String, _ keys: String...) {
            if let found = keys.lazy.compactMap({ value[$0]?.stringValue }).first {
                members.append(JSONMember(name, .string(found)))
            }
        }
        text("type", "type")
        text("name", "name", "title")
        text("currency", "currencyCode", "currency")
        if let accountId = (value["account"]?["id"] ?? value["accountId"])?.numberValue, accountId.isInteger,
           let integer = Int(accountId.text) {
            members.append(JSONMember("accountId", .number(JSONNumber(integer))))
        }
        let fields = (value["clientFields"]?.arrayValue ?? []).prefix(maximumFieldsPerMethod).compactMap(clientField)
        members.append(JSONMember("clientFields", .array(fields)))
        members.append(JSONMember("attachmentRequired", .bool(value["isAttachmentRequired"]?.boolValue ?? false)))
        members.append(JSONMember("raw", pii.apply(value)))
        return .object(JSONObject(members))
    }

    /// A client field: `key` from FirstPay's `id` (or `key`), `name`, `required` (false when unstated) and the
    /// validation FirstPay states (`validation`, `regex` or `pattern`: a string, or an object with `regex` /
    /// `pattern`) as `pattern`.
    static func clientField(_ value: JSONValue) -> JSONValue? {
        guard case .object = value, let key = (value["id"] ?? value["key"])?.scalarText, !key.isEmpty else {
            return nil
        }
        var members = [JSONMember("key", .string(key))]
        if let name = value["name"]?.stringValue { members.append(JSONMember("name", .string(name))) }
        members.append(JSONMember("required", .bool(value["required"]?.boolValue ?? false)))
        let stated = ["validation", "regex", "pattern"].lazy.compactMap { value[$0] }.first
        if let pattern = stated?.stringValue ?? stated?["regex"]?.stringValue ?? stated?["pattern"]?.stringValue {
            members.append(JSONMember("pattern", .string(pattern)))
        }
        return .object(JSONObject(members))
    }
}
