import StrictJSON
import Testing

@testable import PayBridgeContract

@Suite struct CommandDecoderTests {
    let decoder = CommandDecoder()
    static let purchaseData = #"{"paymentId":"payment_812","amount":"250.50","currency":"BDT","customerEmail":"a@b.c"}"#

    func rejection(
        _ body: [UInt8], routingKey: String? = nil, sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> CommandRejection {
        switch decoder.decode(body, routingKey: routingKey) {
        case .success(let c):
            Issue.record("expected a rejection, got \(c.kind)", sourceLocation: sourceLocation)
            throw CancellationError()
        case .failure(let r): return r
        }
    }

    @Test func decodesAValidCommandKeepingAmountText() throws {
        let body = commandBody(.amanpayPurchase, data: Self.purchaseData, extra: #","traceparent":"00-abc-def-01""#)
        let command = try decoder.decode(body, routingKey: "amanpay.purchase").get()
        #expect(command.id == "cmd-1")
        #expect(command.kind == .amanpayPurchase)
        #expect(command.provider == .amanpay)
        #expect(command.operation == "purchase")
        #expect(command.type == "paybridge.amanpay.purchase.v1")
        #expect(command.source == "/tests")
        #expect(command.time == "2026-11-21T06:00:00Z")
        #expect(command.paymentId == "payment_812")
        #expect(command.data["amount"] == .string("250.50"))
        #expect(command.event.extensions["traceparent"] == "00-abc-def-01")
    }

    @Test func badJSONIsRejected() throws {
        let r = try rejection(Array(#"{"specversion":"1.0","id":"x",}"#.utf8), routingKey: "firstpay.pay_in")
        guard case .badJSON = r.reason else { throw Unexpected(r) }
        #expect(r.code == "BAD_JSON")
        #expect(r.commandId == nil)
        #expect(r.provider == .firstpay)
        #expect(r.operation == "pay_in")
        #expect(r.errorClass == .invalidCommand)
        #expect(r.bodySHA256.count == 64)
    }

    @Test(arguments: [
        #"[1,2]"#,
        #"{"id":"x","type":"paybridge.amanpay.status.v1","source":"/s"}"#,
        #"{"specversion":"0.3","id":"x","type":"paybridge.amanpay.status.v1","source":"/s"}"#,
        #"{"specversion":"1.0","id":"","type":"paybridge.amanpay.status.v1","source":"/s"}"#,
        #"{"specversion":"1.0","id":"x","type":"paybridge.amanpay.status.v1","source":7}"#,
        #"{"specversion":"1.0","id":"x","type":"paybridge.amanpay.status.v1","source":"/s","data_base64":"AA=="}"#,
    ])
    func nonCloudEventsAreRejected(_ text: String) throws {
        let r = try rejection(Array(text.utf8))
        guard case .notACloudEvent = r.reason else { throw Unexpected(r) }
        #expect(r.code == "NOT_A_CLOUDEVENT")
    }

    @Test func unknownTypeIsRejectedWithWhatCanBeRead() throws {
        let body = Array(
            #"{"specversion":"1.0","id":"c9","type":"paybridge.amanpay.refund.v1","source":"/s","time":"2026-11-21T06:00:00Z","data":{}}"#
                .utf8)
        let r = try rejection(body)
        #expect(r.reason == .unknownType("paybridge.amanpay.refund.v1"))
        #expect(r.code == "UNKNOWN_TYPE")
        #expect(r.commandId == "c9")
        #expect(r.provider == .amanpay)
        #expect(r.operation == "refund")
        // v2 of a known command is unknown to v1 PayBridge.
        let v2 = Array(
            #"{"specversion":"1.0","id":"c9","type":"paybridge.amanpay.purchase.v2","source":"/s","data":{}}"#.utf8)
        #expect(try rejection(v2).reason == .unknownType("paybridge.amanpay.purchase.v2"))
    }

    @Test func routingKeyMustMatchType() throws {
        let r = try rejection(commandBody(.amanpayPurchase, data: Self.purchaseData), routingKey: "firstpay.pay_in")
        #expect(r.reason == .routingKeyMismatch(type: "paybridge.amanpay.purchase.v1", routingKey: "firstpay.pay_in"))
        #expect(r.provider == .amanpay)
        #expect(r.paymentId == "payment_812")
    }

    @Test func missingRequiredFieldIsASchemaViolation() throws {
        let r = try rejection(commandBody(.amanpayStatus, data: #"{"paymentId":"p1"}"#))
        let errors = try violations(r)
        #expect(errors.contains { $0.instancePath == "/data" && $0.message.contains("'paymentType'") })
        #expect(r.message.contains("/data: required property 'paymentType' is missing"))
        #expect(r.commandId == "cmd-1")
        #expect(r.code == "SCHEMA_VIOLATION")
    }

    @Test func amountAsNumberIsASchemaViolation() throws {
        let data = #"{"paymentId":"p1","amount":250.50,"currency":"BDT","customerEmail":"a@b.c"}"#
        let errors = try violations(try rejection(commandBody(.amanpayPurchase, data: data)))
        #expect(errors.map(\.description) == ["/data/amount: must be string, not number"])
    }

    @Test(arguments: [
        "250.505", "-1.00", "01.00", "1e3", "250.", "", " 250.50", "250,50", "12345678901234.50", "0", "0.00", "0.0",
        "00.10", ".5",
    ])
    func badDecimalAmountIsASchemaViolation(_ amount: String) throws {
        let data = #"{"accountId":12,"paymentMethodId":"pm","amount":"\#(amount)","clientFieldsValues":[],"merchantPaymentId":"o1"}"#
        let errors = try violations(try rejection(commandBody(.firstpayPayIn, data: data)))
        #expect(errors.allSatisfy { $0.instancePath == "/data/amount" }, "\(errors)")
        #expect(!errors.isEmpty)
    }

    @Test(arguments: ["0.01", "0.1", "0.10", "0.05", "1", "250.5", "250.50", "1000000.00", "9999999999999.99"])
    func goodDecimalAmountsAreAccepted(_ amount: String) throws {
        let data = #"{"accountId":12,"paymentMethodId":"pm","amount":"\#(amount)","clientFieldsValues":[],"merchantPaymentId":"o1"}"#
        let command = try decoder.decode(commandBody(.firstpayPayIn, data: data)).get()
        #expect(command.data["amount"] == .string(amount))
    }

    @Test func firstPayCreatesRequireMerchantPaymentId() throws {
        let data = #"{"accountId":12,"paymentMethodId":"pm","amount":"1.00","clientFieldsValues":[]}"#
        let errors = try violations(try rejection(commandBody(.firstpayPayOut, data: data)))
        #expect(errors.map(\.message) == ["required property 'merchantPaymentId' is missing"])
    }

    @Test func credentialsInCommandsAreRefused() throws {
        let aman = #"{"paymentId":"p","amount":"1.00","currency":"BDT","customerEmail":"e","merchantId":1758378}"#
        #expect(try violations(try rejection(commandBody(.amanpayPurchase, data: aman))).map(\.instancePath) == [
            "/data/merchantId"
        ])
        let first = #"{"paymentId":"p","code":"1234","hash":"abc"}"#
        #expect(!(try violations(try rejection(commandBody(.firstpaySMS, data: first)))).isEmpty)
    }

    @Test func additionalDataFieldsFollowTheProviderDocs() throws {
        // Amanpay initiate: "more fields may exist" → passed through.
        let aman = #"{"paymentId":"p","amount":"1.00","currency":"BDT","customerEmail":"e","futureField":"x"}"#
        #expect((try? decoder.decode(commandBody(.amanpayPurchase, data: aman)).get()) != nil)
        // Status, specify and every FirstPay command: closed.
        let status = #"{"paymentId":"p","paymentType":"purchase","extra":1}"#
        #expect(try violations(try rejection(commandBody(.amanpayStatus, data: status))).map(\.instancePath) == [
            "/data/extra"
        ])
    }

    @Test func firstPayStatusNeedsAtLeastOneId() throws {
        #expect((try? decoder.decode(commandBody(.firstpayStatus, data: #"{"paymentId":"fp-1"}"#)).get()) != nil)
        #expect((try? decoder.decode(commandBody(.firstpayStatus, data: #"{"merchantPaymentId":"o-1"}"#)).get()) != nil)
        let errors = try violations(try rejection(commandBody(.firstpayStatus, data: "{}")))
        #expect(errors.map(\.message).first?.hasPrefix("must match at least one of 2 alternatives") == true)
    }

    @Test func amanpaySpecifyAcceptsStringOrIntegerIds() throws {
        let ok = #"{"transactionId":62861,"operationId":"29609","additionalFields":{"Otp":"123456"}}"#
        #expect((try? decoder.decode(commandBody(.amanpaySpecify, data: ok)).get()) != nil)
        let bad = #"{"transactionId":"abc","operationId":29609,"additionalFields":{}}"#
        let errors = try violations(try rejection(commandBody(.amanpaySpecify, data: bad)))
        #expect(Set(errors.map(\.instancePath)) == ["/data/transactionId", "/data/additionalFields"])
    }

    @Test func envelopeRulesAreEnforced() throws {
        // time is required and must look like RFC 3339.
        let noTime = Array(
            #"{"specversion":"1.0","id":"c","type":"paybridge.amanpay.status.v1","source":"/s","data":{"paymentId":"p","paymentType":"payout"}}"#
                .utf8)
        #expect(try violations(try rejection(noTime)).map(\.message) == ["required property 'time' is missing"])
        let badTime = commandBody(.amanpayStatus, data: #"{"paymentId":"p","paymentType":"payout"}"#)
            .replacing(Array("2026-11-21T06:00:00Z".utf8), with: Array("yesterday".utf8))
        #expect(try violations(try rejection(badTime)).map(\.instancePath) == ["/time"])
        // Extension attribute names are CloudEvents-shaped.
        let badExtension = commandBody(
            .amanpayStatus, data: #"{"paymentId":"p","paymentType":"payout"}"#, extra: #","Trace-Id":"x""#)
        #expect(try violations(try rejection(badExtension)).map(\.instancePath) == ["/Trace-Id"])
        // Non-JSON data content type.
        let xml = commandBody(.amanpayStatus, data: #"{"paymentId":"p","paymentType":"payout"}"#)
            .replacing(Array("application/json".utf8), with: Array("application/xml".utf8))
        #expect(try violations(try rejection(xml)).map(\.instancePath) == ["/datacontenttype"])
    }

    @Test func manyViolationsAreSummarised() throws {
        let data = #"{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7}"#
        let r = try rejection(commandBody(.firstpaySMS, data: data))
        #expect(try violations(r).count == 9)
        #expect(r.message.hasSuffix("; and 4 more"))
    }

    func violations(_ r: CommandRejection) throws -> [SchemaValidationError] {
        guard case .schemaViolation(let errors) = r.reason else { throw Unexpected(r) }
        return errors
    }
}

struct Unexpected: Error, CustomStringConvertible {
    let rejection: CommandRejection
    init(_ r: CommandRejection) { rejection = r }
    var description: String { "unexpected rejection \(rejection)" }
}

@Suite struct CommandMessageTests {
    @Test func builtCommandsDecode() throws {
        let data: JSONValue = [
            "accountId": 12, "paymentMethodId": "pm_bkash", "amount": "500.00",
            "clientFieldsValues": [["key": "wallet", "value": "01712345678"]], "merchantPaymentId": "order-42",
        ]
        let message = CommandMessage(
            kind: .firstpayPayIn, id: "cmd-42", data: data, source: "/tests", extensions: ["traceparent": "00-1-2-01"])
        #expect(message.validate().isEmpty)
        #expect(message.exchange == "payments.commands")
        #expect(message.routingKey == "firstpay.pay_in")
        #expect(message.properties.messageId == "cmd-42")
        #expect(message.properties.type == "paybridge.firstpay.pay_in.v1")
        #expect(message.properties.contentType == "application/cloudevents+json")
        let command = try CommandDecoder().decode(message.body, routingKey: message.routingKey).get()
        #expect(command.id == "cmd-42")
        #expect(command.paymentId == "order-42")
        #expect(command.data["amount"] == "500.00")
        #expect(command.event.extensions["traceparent"] == "00-1-2-01")

        let bad = CommandMessage(kind: .amanpayStatus, id: "c", data: ["paymentId": "p"], source: "/tests")
        #expect(bad.validate().map(\.message) == ["required property 'paymentType' is missing"])
    }
}

@Suite struct CommandDecoderRobustnessTests {
    /// "Never a crash": every single-byte corruption and every truncation of a valid command is either accepted or
    /// rejected with a reason.
    @Test func corruptedAndTruncatedBodiesNeverCrash() {
        let decoder = CommandDecoder()
        let body = commandBody(
            .amanpaySpecify, data: #"{"transactionId":"62861","operationId":29609,"additionalFields":{"Otp":"1é\u00e9"}}"#)
        #expect((try? decoder.decode(body).get()) != nil)
        var rejected = 0
        for index in body.indices {
            for replacement: UInt8 in [0x00, 0x22, 0x5C, 0x7B, 0x5D, 0x2C, 0x30, 0xFF, 0xC3] {
                var mutated = body
                mutated[index] = replacement
                if case .failure(let r) = decoder.decode(mutated) {
                    rejected += 1
                    #expect(!r.message.isEmpty)
                }
            }
            if case .failure = decoder.decode(body[..<index]) { rejected += 1 }
        }
        #expect(rejected > body.count)
    }
}
