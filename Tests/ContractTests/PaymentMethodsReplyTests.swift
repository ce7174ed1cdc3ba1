import Foundation
import PaymentVocabulary
import StrictJSON
import Testing

@testable import PayBridgeContract

/// FirstPay's method object is undocumented: the reply reads what it can name, keeps the rest in `raw`, and an
/// answer of any shape gives a reply that validates against the reply schema — never a crash or a silent nothing.
@Suite struct PaymentMethodsReplyTests {
    static let time = Date(timeIntervalSince1970: 1_795_000_000)
    static let address = PaymentMethodsQuery.ReplyAddress(replyTo: "amq.rabbitmq.reply-to.abc", correlationId: "c-1")

    static func query(data: String = #"{"merchantPaymentId":"order-1","merchantUserId":"u","amount":"5"}"#) throws
        -> PaymentMethodsQuery
    {
        let body = Array(
            """
            {"specversion":"1.0","id":"q-1","type":"\(PaymentMethodsQuery.type)","source":"/t",\
            "time":"2026-11-21T06:00:00Z","data":\(data)}
            """.utf8)
        return try CommandDecoder().decodeQuery(body, routingKey: PaymentMethodsQuery.routingKey,
                                                replyTo: address.replyTo, correlationId: "c-1").get()
    }

    func reply(_ answer: String, pii: EventPII = .masked) throws -> PaymentMethodsReply {
        let reply = PaymentMethodsReply.methods(try JSONValue.parse(answer), for: try Self.query(), pii: pii,
                                                at: Self.time)
        let violations = ContractSchemas.validator(forType: PaymentMethodsReply.type)?.validate(reply.event.jsonValue)
        #expect(violations == [], "\(reply.event.jsonValue.compactText)")
        return reply
    }

    @Test func oneMethodByIdIsAListOfOne() throws {
        let reply = try reply(#"{"id":"pm_upi","type":"PAY_IN","clientFields":[]}"#)
        #expect(reply.methodCount == 1)
        #expect(reply.event.data?["methods"]?.arrayValue?.first?["id"] == .string("pm_upi"))
    }

    @Test func numericIdsAndKeysBecomeTextAndUnstatedFlagsAreFalse() throws {
        let reply = try reply(#"[{"id":7,"clientFields":[{"id":3},{"key":"iban","required":"yes"}]}]"#)
        let method = try #require(reply.event.data?["methods"]?.arrayValue?.first)
        #expect(method["id"] == .string("7"))
        #expect(method["attachmentRequired"] == .bool(false))
        #expect(method["clientFields"] == .array([
            .object(["key": "3", "required": false]), .object(["key": "iban", "required": false]),
        ]))
    }

    @Test func validationIsReadFromTheShapesFirstPayMightUse() throws {
        let reply = try reply(
            #"[{"id":"a","clientFields":[{"id":"x","regex":"^a$"},{"id":"y","validation":{"pattern":"^b$"}},"#
                + #"{"id":"z","pattern":"^c$"},{"id":"w","validation":{"min":3}}]}]"#)
        let fields = try #require(reply.event.data?["methods"]?.arrayValue?.first?["clientFields"]?.arrayValue)
        #expect(fields.map { $0["pattern"] } == [.string("^a$"), .string("^b$"), .string("^c$"), nil])
    }

    @Test func anAccountIdThatIsNotAnIntegerIsLeftOutNotTrapped() throws {
        let reply = try reply(
            #"[{"id":"a","account":{"id":1.5}},{"id":"b","account":{"id":99999999999999999999999}},"#
                + #"{"id":"c","account":"12"},{"id":"d","accountId":-4}]"#)
        let methods = try #require(reply.event.data?["methods"]?.arrayValue)
        #expect(methods.map { $0["accountId"] } == [nil, nil, nil, .number(JSONNumber(-4))])
    }

    @Test func entriesThatAreNotMethodsAreSkippedAndTheRestKept() throws {
        let reply = try reply(#"[1,"x",null,{"name":"no id"},{"id":""},{"id":"ok"}]"#)
        #expect(reply.methodCount == 1)
    }

    @Test(arguments: [#""a string""#, "42", "null", "true"])
    func anAnswerOfAnotherShapeIsAnErrorReply(answer: String) throws {
        let reply = try reply(answer)
        #expect(reply.methodCount == nil)
        #expect(reply.error?.code == "MALFORMED_RESPONSE")
        #expect(reply.error?.errorClass == .providerError)
    }

    @Test func hugeAnswersAreBounded() throws {
        let field = #"{"id":"f"}"#
        let method = #"{"id":"m","clientFields":["# + Array(repeating: field, count: 500).joined(separator: ",") + "]}"
        let reply = try reply("[" + Array(repeating: method, count: 700).joined(separator: ",") + "]")
        #expect(reply.methodCount == PaymentMethodsReply.maximumMethods)
        let fields = reply.event.data?["methods"]?.arrayValue?.first?["clientFields"]?.arrayValue
        #expect(fields?.count == PaymentMethodsReply.maximumFieldsPerMethod)
    }

    @Test func accountNumbersInRawAreMaskedAsInEventsAndSignatureMaterialDropped() throws {
        let answer = #"[{"id":"a","account":{"id":1,"bkashNumber":"01712345678"},"hash":"sig"}]"#
        let masked = try reply(answer).event.data?["methods"]?.arrayValue?.first?["raw"]
        #expect(masked?["account"]?["bkashNumber"] == .string("*******5678"))
        #expect(masked?["hash"] == nil)
        let full = try reply(answer, pii: .full).event.data?["methods"]?.arrayValue?.first?["raw"]
        #expect(full?["account"]?["bkashNumber"] == .string("01712345678"))
    }

    @Test func aReplyNamesItsQueryAndIsAStructuredCloudEvent() throws {
        let reply = try reply("[]")
        let event = reply.event
        #expect(event.type == "paybridge.firstpay.payment_methods.reply.v1")
        #expect(event.source == "/paybridge/worker")
        #expect(event.subject == "order-1")
        #expect(event.time == "2026-11-18T11:06:40.000Z")
        #expect(event.data?["queryId"] == .string("q-1"))
        #expect(event.data?["provider"] == .string("firstpay"))
        #expect(event.data?["account"] == .string("default"))
        #expect(event.data?["methods"] == .array([]))
        #expect(reply.address == Self.address)
        #expect(try CloudEvent.parse(reply.body) == event)
    }

    @Test func theQuerySchemaRefusesUnknownFieldsAndNumericAmounts() throws {
        for data in [#"{"merchantPaymentId":"o","merchantUserId":"u","amount":"5","extra":1}"#,
                     #"{"merchantPaymentId":"o","merchantUserId":"u","amount":5}"#,
                     #"{"merchantPaymentId":"o","merchantUserId":"u","amount":"5","type":"BOTH"}"#,
                     #"{"merchantPaymentId":"o","merchantUserId":"u","amount":"5","publicKey":"k"}"#] {
            #expect(throws: QueryRejection.self) { try Self.query(data: data) }
        }
    }
}
