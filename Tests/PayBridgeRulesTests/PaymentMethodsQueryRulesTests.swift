import AMQPValues
import Foundation
import PayBridgeContract
import PayBridgeRules
import PayBridgeTestKit
import PaymentVocabulary
import StrictJSON
import Testing

/// Payment-methods queries through the pipeline, as values: every query that names a direct reply-to gets a reply
/// (methods or the error), one without is dead-lettered, and nothing else is ever published for a query.
@Suite struct PaymentMethodsQueryRulesTests {
    typealias Fixtures = CommandDeliveryFixtures
    static let replyTo = "amq.rabbitmq.reply-to.g1h2AA1yZXBseUA5NTAyNjUzAAAXLAAAAABrFSrp.uYHf9i94XHVAob9fZX6L8w=="
    static let bd = MerchantAccount("bd")!
    let time = Fixtures.time

    static func rules(accounts: Set<MerchantAccount> = [.default, bd]) -> DeliveryRules {
        var rules = DeliveryRules(provider: .firstpay, maxAttempts: 3)
        rules.accounts = accounts
        return rules
    }

    static func body(id: String = "q-1", type: String = PaymentMethodsQuery.type, data: String) -> [UInt8] {
        Array(
            """
            {"specversion":"1.0","id":"\(id)","type":"\(type)","source":"/tests","time":"2026-11-21T06:00:00Z",\
            "data":\(data)}
            """.utf8)
    }

    static let validData = #"{"merchantPaymentId":"order-1","merchantUserId":"u-1","amount":"500.00","type":"PAY_IN"}"#

    static func delivery(_ body: [UInt8], replyTo: String? = replyTo, correlationId: String? = "corr-1",
                         routingKey: String = PaymentMethodsQuery.routingKey) -> CommandDelivery {
        let properties = AMQPProperties(contentType: "application/cloudevents+json", correlationId: correlationId,
                                        replyTo: replyTo)
        return CommandDelivery(body: body, properties: properties, routingKey: routingKey, redelivered: false,
                               deliveryTag: 3, exchange: Topology.commandsExchange)
    }

    /// The plan `rules` reach for `delivery` before any provider call, or the account they would call.
    func screened(_ delivery: CommandDelivery, rules: DeliveryRules = rules()) -> DeliveryRules.Admission {
        let kind = rules.classify(delivery, receivedAt: time)
        let screened = rules.screen(kind, delivery: delivery, at: time)
        guard case .execute(let account) = screened else { return screened }
        var memory = WorkerMemory(accounts: rules.accounts, accountPause: (.seconds(5), .seconds(300)),
                                  badSignatureThreshold: 2, notificationWindow: .zero)
        return rules.admit(kind, account: account, notificationKey: nil, delivery: delivery, memory: &memory,
                           now: .now)
    }

    func plan(_ admission: DeliveryRules.Admission) throws -> DeliveryPlan {
        guard case .planned(let plan) = admission else { throw Unexpected(what: "\(admission)") }
        return plan
    }

    func query(_ data: String = validData) throws -> PaymentMethodsQuery {
        let kind = Self.rules().classify(Self.delivery(Self.body(data: data)), receivedAt: time)
        guard case .query(.success(let query)) = kind else { throw Unexpected(what: "\(kind)") }
        return query
    }

    @Test func aQueryIsClassifiedByItsRoutingKeyAndReadWithItsReplyAddress() throws {
        let query = try query()
        #expect(query.id == "q-1")
        #expect(query.account == .default)
        #expect(query.merchantPaymentId == "order-1")
        #expect(query.amount == DecimalAmount("500.00"))
        #expect(query.paymentType == "PAY_IN")
        #expect(query.reply == PaymentMethodsQuery.ReplyAddress(replyTo: Self.replyTo, correlationId: "corr-1"))
        let kind = Self.rules().classify(Self.delivery(Self.body(data: Self.validData)), receivedAt: time)
        #expect(kind.operation == "firstpay.payment_methods")
        #expect(kind.commandId == "q-1")
    }

    @Test func withoutACorrelationIdTheReplyCorrelatesByTheQueryId() throws {
        let kind = Self.rules().classify(Self.delivery(Self.body(data: Self.validData), correlationId: nil),
                                         receivedAt: time)
        guard case .query(.success(let query)) = kind else { throw Unexpected(what: "\(kind)") }
        #expect(query.reply.correlationId == "q-1")
    }

    @Test func aValidQueryOfAConfiguredAccountCallsFirstPayEvenWhileTheAccountIsPaused() throws {
        let delivery = Self.delivery(Self.body(data: #"{"merchantPaymentId":"o","merchantUserId":"u","amount":"1","account":"bd"}"#))
        let rules = Self.rules()
        let kind = rules.classify(delivery, receivedAt: time)
        var memory = WorkerMemory(accounts: rules.accounts, accountPause: (.seconds(5), .seconds(300)),
                                  badSignatureThreshold: 2, notificationWindow: .zero)
        // Pause `bd` the way a configuration failure does.
        _ = memory.planned(DeliveryPlan(disposition: .putBackAndPause(reason: "bad key"), verdict: .pausedForOpenCircuit),
                           account: Self.bd, now: .now)
        let admission = rules.admit(kind, account: Self.bd, notificationKey: nil, delivery: delivery, memory: &memory,
                                    now: .now)
        guard case .execute(let account) = admission else { throw Unexpected(what: "\(admission)") }
        #expect(account == Self.bd)
    }

    @Test(arguments: [nil, "payments.amanpay", "consumer.orders.replies", "amq.rabbitmq.reply-to"])
    func aQueryWithoutADirectReplyToIsDeadLetteredAndAnsweredNowhere(replyTo: String?) throws {
        let plan = try plan(screened(Self.delivery(Self.body(data: Self.validData), replyTo: replyTo)))
        #expect(plan.reply == nil)
        #expect(plan.events.isEmpty)
        #expect(plan.disposition == .ack)
        #expect(plan.verdict == .queryFailed(code: "NO_REPLY_TO", errorClass: .invalidCommand))
        guard case .deadLetter(let deadLetter) = plan.republish else { throw Unexpected(what: "\(plan)") }
        #expect(deadLetter.code == "NO_REPLY_TO")
        #expect(deadLetter.reason == .invalidCommand)
    }

    @Test(arguments: [
        (#"{"merchantPaymentId":"o","merchantUserId":"u","amount":500}"#, "SCHEMA_VIOLATION"),
        (#"{"merchantPaymentId":"o","merchantUserId":"u","amount":"1","cardNumber":"4111"}"#, "SCHEMA_VIOLATION"),
        (#"{"merchantUserId":"u","amount":"1"}"#, "SCHEMA_VIOLATION"),
    ])
    func anUnreadableQueryIsAnsweredWithTheErrorNotDeadLettered(data: String, code: String) throws {
        let plan = try plan(screened(Self.delivery(Self.body(data: data))))
        #expect(plan.republish == nil)
        #expect(plan.events.isEmpty)
        let reply = try #require(plan.reply)
        #expect(reply.address.replyTo == Self.replyTo)
        #expect(reply.address.correlationId == "corr-1")
        #expect(reply.error?.code == code)
        #expect(reply.error?.errorClass == .invalidCommand)
        #expect(reply.event.data?["queryId"] == .string("q-1"))
        #expect(ContractSchemas.validator(forType: PaymentMethodsReply.type)?.validate(reply.event.jsonValue) == [])
    }

    @Test func bodiesThatAreNotQueriesAreAnsweredToo() throws {
        for body in [Array("{not json".utf8), Array(#"{"id":"x"}"#.utf8),
                     Self.body(type: "paybridge.firstpay.pay_in.v1", data: Self.validData)] {
            let plan = try plan(screened(Self.delivery(body)))
            let reply = try #require(plan.reply)
            #expect(reply.error?.errorClass == .invalidCommand)
            #expect(plan.verdict == .queryFailed(code: reply.error?.code ?? "-", errorClass: .invalidCommand))
        }
    }

    @Test func anUnknownAccountIsAnsweredWithUnknownAccount() throws {
        let data = #"{"merchantPaymentId":"o","merchantUserId":"u","amount":"1","account":"nosuch"}"#
        let plan = try plan(screened(Self.delivery(Self.body(data: data))))
        let reply = try #require(plan.reply)
        #expect(reply.error?.code == "UNKNOWN_ACCOUNT")
        #expect(reply.event.data?["account"] == .string("nosuch"))
        #expect(plan.republish == nil)
    }

    @Test func onlyFirstPaysQueueReadsQueries() {
        var amanpay = DeliveryRules(provider: .amanpay, maxAttempts: 3)
        amanpay.accounts = [.default]
        let kind = amanpay.classify(Self.delivery(Self.body(data: Self.validData)), receivedAt: time)
        guard case .command(.failure) = kind else {
            Issue.record("expected a rejected command, got \(kind)")
            return
        }
    }

    @Test func firstPaysAnswerBecomesTheMethodsReply() throws {
        let query = try query()
        let answer = try JSONValue.parse(
            #"[{"id":"pm_bkash","type":"PAY_IN","name":"bKash","currencyCode":"BDT","account":{"id":12},"#
                + #""clientFields":[{"id":"phone","name":"Wallet","required":true,"validation":"^01[0-9]{9}$"}],"#
                + #""isAttachmentRequired":true}]"#)
        let plan = Self.rules().plan(.query(query, .success(answer)), delivery: Self.delivery([]), at: time)
        #expect(plan.verdict == .queryAnswered(methods: 1))
        let reply = try #require(plan.reply)
        let method = try #require(reply.event.data?["methods"]?.arrayValue?.first)
        #expect(method["id"] == .string("pm_bkash"))
        #expect(method["accountId"] == .number(JSONNumber(12)))
        #expect(method["currency"] == .string("BDT"))
        #expect(method["attachmentRequired"] == .bool(true))
        let field = try #require(method["clientFields"]?.arrayValue?.first)
        #expect(field == .object(["key": "phone", "name": "Wallet", "required": true, "pattern": "^01[0-9]{9}$"]))
        #expect(reply.event.subject == "order-1")
        #expect(ContractSchemas.validator(forType: PaymentMethodsReply.type)?.validate(reply.event.jsonValue) == [])
    }

    @Test func firstPaysFailureBecomesTheErrorReply() throws {
        let query = try query()
        let down = ProviderError(provider: .firstpay, operation: "payment_methods", errorClass: .transient,
                                 code: .timeout, message: "no answer within 2 s")
        let plan = Self.rules().plan(.query(query, .failure(down)), delivery: Self.delivery([]), at: time)
        #expect(plan.verdict == .queryFailed(code: "TIMEOUT", errorClass: .transient))
        #expect(plan.reply?.error?.code == "TIMEOUT")
        #expect(plan.reply?.event.data?["methods"] == nil)
        #expect(plan.events.isEmpty && plan.republish == nil && plan.disposition == .ack)
    }
}
