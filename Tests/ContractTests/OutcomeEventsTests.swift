import Foundation
import PaymentVocabulary
import StrictJSON
import Testing

@testable import PayBridgeContract

@Suite struct OutcomeEventsTests {
    static let time = Date(timeIntervalSince1970: 1_795_500_000.25)

    static let redirect = PaymentOutcome(
        commandId: "cmd-1", provider: .amanpay, operation: "purchase", paymentId: "payment_812",
        providerPaymentId: "62861", status: .requiresAction, final: false, providerStatus: "REDIRECT",
        amount: "250.51", currency: "BDT", redirectUrl: "https://page.amanpay.io/checkout/x", attempts: 1,
        raw: try! JSONValue.parse(
            #"{"transactionId":"62861","paymentID":"payment_812","status":"REDIRECT","amount":250.51,"currency":"BDT","paymentType":"purchase"}"#
        ))

    @Test func responseEventHasTheContractShape() throws {
        let m = OutcomeEvents.response(Self.redirect, time: Self.time)
        #expect(m.exchange == "payments.outcomes")
        #expect(m.routingKey == "amanpay.purchase.response")
        #expect(m.event.type == "paybridge.payment.response.v1")
        #expect(m.event.source == "/paybridge/worker")
        #expect(m.event.subject == "payment_812")
        #expect(m.event.time == "2026-11-24T06:00:00.250Z")
        #expect(m.properties.messageId == m.event.id)
        #expect(m.properties.correlationId == "cmd-1")
        #expect(m.properties.type == "paybridge.payment.response.v1")
        #expect(m.properties.contentType == "application/cloudevents+json")
        #expect(m.properties.deliveryMode == 2)
        #expect(m.properties.timestamp == 1_795_500_000)
        #expect(OutcomeEvents.validate(m.event).isEmpty, "\(OutcomeEvents.validate(m.event))")
        // The body round-trips and the raw provider amount keeps its text.
        let parsed = try CloudEvent.parse(m.body)
        #expect(parsed == m.event)
        #expect(parsed.data?["raw"]?["amount"]?.numberValue?.text == "250.51")
        #expect(parsed.data?["amount"] == "250.51")
    }

    @Test func eventIdsAreDeterministic() {
        let a = OutcomeEvents.response(Self.redirect, time: Self.time)
        let b = OutcomeEvents.response(Self.redirect, time: Self.time.addingTimeInterval(3600))
        #expect(a.event.id == b.event.id, "time is not part of the fact")
        var retried = Self.redirect
        retried.attempts = 3
        retried.raw = ["different": "body"]
        #expect(OutcomeEvents.response(retried).event.id == a.event.id, "attempts and raw are not part of the fact")

        var succeeded = Self.redirect
        succeeded.status = .succeeded
        succeeded.providerStatus = "SUCCESS"
        #expect(OutcomeEvents.response(succeeded).event.id != a.event.id)
        var otherCommand = Self.redirect
        otherCommand.commandId = "cmd-2"
        #expect(OutcomeEvents.response(otherCommand).event.id != a.event.id)
        #expect(OutcomeEvents.response(Self.redirect, fact: "2").event.id != a.event.id)
        // Same data, different event type: different fact.
        #expect(OutcomeEvents.callback(Self.redirect).event.id != a.event.id)
        // UUID text, version 8, RFC 9562 variant.
        let id = Array(a.event.id)
        #expect(id.count == 36 && id[8] == "-" && id[13] == "-" && id[18] == "-" && id[23] == "-")
        #expect(id[14] == "8")
        #expect("89ab".contains(id[19]))
    }

    @Test func eventIdRuleIsPinned() {
        // A change to the rule changes every id consumers have stored: this value must never change.
        #expect(
            EventID.make(
                type: "paybridge.payment.response.v1", commandId: "01JD3Q7ZK8V6M2W4X9T5R1N0PA", provider: "amanpay",
                operation: "purchase", paymentId: "payment_812", providerPaymentId: "62861",
                status: "requires_action", providerStatus: "REDIRECT", errorCode: nil, errorClass: nil)
                == "e16644f3-74fc-8761-acd2-c75e40f78a40")
    }

    @Test func callbackEventValidatesAndHasNoCorrelationId() throws {
        let spec = PaymentOutcome(
            commandId: nil, provider: .amanpay, operation: nil, providerPaymentId: "62861",
            providerOperationId: "29609", status: .requiresAction, final: false, providerStatus: "SPECIFICATION",
            additionalFields: ["Otp"], attempts: 5,
            raw: try JSONValue.parse(#"{"additional_fields":["Otp"],"operationId":29609,"transactionId":62861,"status":"SPECIFICATION"}"#))
        let m = OutcomeEvents.callback(spec, time: Self.time)
        #expect(m.routingKey == "amanpay.callback")
        #expect(m.event.source == "/paybridge/callbacks")
        #expect(m.properties.correlationId == nil)
        #expect(m.event.subject == "62861")
        #expect(m.event.data?["attempts"] == nil)
        #expect(m.event.data?["commandId"] == .null)
        #expect(m.event.data?["providerOperationId"] == "29609")
        #expect(OutcomeEvents.validate(m.event).isEmpty, "\(OutcomeEvents.validate(m.event))")
    }

    @Test func failedEventsValidate() {
        let exhausted = PaymentOutcome(
            commandId: "cmd-7", provider: .firstpay, operation: "pay_in", paymentId: "order-42", status: .unknown,
            final: false,
            error: OutcomeError(code: "RETRIES_EXHAUSTED", message: "HTTP 500", errorClass: .retriesExhausted),
            attempts: 8, raw: ["error": "Internal Server Error"])
        let m = OutcomeEvents.commandFailed(exhausted, time: Self.time)
        #expect(m.routingKey == "firstpay.pay_in.failed")
        #expect(OutcomeEvents.validate(m.event).isEmpty, "\(OutcomeEvents.validate(m.event))")

        var noError = exhausted
        noError.error = nil
        #expect(!OutcomeEvents.validate(OutcomeEvents.commandFailed(noError).event).isEmpty, "error is required")
    }

    @Test func rejectedCommandsBecomeValidFailedEvents() throws {
        let decoder = CommandDecoder()
        let bodies: [([UInt8], String?)] = [
            (Array("not json".utf8), "amanpay.purchase"),
            (Array(#"{"specversion":"1.0"}"#.utf8), nil),
            (Array(#"{"specversion":"1.0","id":"c1","type":"paybridge.amanpay.refund.v1","source":"/s"}"#.utf8), "amanpay.refund"),
            (commandBody(.amanpayPurchase, data: #"{"paymentId":"p","amount":250.5}"#), "amanpay.purchase"),
            (commandBody(.firstpaySMS, data: #"{"paymentId":"p","code":"1"}"#), "firstpay.status"),
        ]
        var ids: Set<String> = []
        for (body, key) in bodies {
            guard case .failure(let rejection) = decoder.decode(body, routingKey: key) else {
                Issue.record("expected a rejection")
                continue
            }
            let m = OutcomeEvents.commandFailed(rejection: rejection, provider: .amanpay, time: Self.time)
            #expect(OutcomeEvents.validate(m.event).isEmpty, "\(rejection): \(OutcomeEvents.validate(m.event))")
            #expect(m.event.data?["error"]?["class"] == "invalid_command")
            #expect(m.event.data?["error"]?["code"]?.stringValue == rejection.code)
            #expect(m.routingKey.hasSuffix(".failed"))
            ids.insert(m.event.id)
            // Same bad message again: same event id.
            if case .failure(let again) = decoder.decode(body, routingKey: key) {
                #expect(OutcomeEvents.commandFailed(rejection: again, provider: .amanpay).event.id == m.event.id)
            }
        }
        #expect(ids.count == bodies.count)
        // Unknown operations keep their segment in the routing key; unreadable ones become `unknown`.
        #expect(Topology.failedRoutingKey(.amanpay, operation: "refund") == "amanpay.refund.failed")
        #expect(Topology.failedRoutingKey(.amanpay, operation: nil) == "amanpay.unknown.failed")
        #expect(Topology.failedRoutingKey(.amanpay, operation: "a.#") == "amanpay.unknown.failed")
    }

    @Test func malformedOutcomesAreCaughtByValidation() {
        var bad = Self.redirect
        bad.amount = "250,51"
        let errors = OutcomeEvents.validate(OutcomeEvents.response(bad).event)
        #expect(errors.map(\.instancePath) == ["/data/amount"])
        var wrongOperation = Self.redirect
        wrongOperation.operation = "pay_in"  // a FirstPay operation on an Amanpay response
        #expect(!OutcomeEvents.validate(OutcomeEvents.response(wrongOperation).event).isEmpty)
    }
}
