import Amanpay
import AMQP
import FirstPay
import Foundation
@testable import PayBridge
import PayBridgeRules
import PayBridgeTestKit
import PayBridgeContract
import PaymentVocabulary
import ProviderCore
import StrictJSON
import Testing

/// Every event example of `schemas/events/*.schema.json`, produced by PayBridge's own code: the worker's rules
/// (``DeliveryRules``) fed with the providers' documented bodies (amanpay.md §3, the FirstPay test vectors), the
/// default event settings (`PAYBRIDGE_EVENT_PII=masked`) and a fixed clock. `EventExamplesTests` fails when a schema's
/// `examples` differ from these; `make examples` writes them.
enum EventExamples {
    /// One example: the schema file it belongs to (relative to `schemas/`), what it shows, the event.
    struct Example {
        var schema: String
        var title: String
        var event: CloudEvent
    }

    static let time = Date(timeIntervalSince1970: 1_795_000_000)  // 2026-11-18T11:06:40.000Z
    static let later = time.addingTimeInterval(61.25)

    static let response = "events/payment.response.v1.schema.json"
    static let callback = "events/payment.callback.v1.schema.json"
    static let failed = "events/command.failed.v1.schema.json"
    static let unresolved = "events/payment.unresolved.v1.schema.json"

    // MARK: Provider bodies, as documented

    static let redirect = #"{"transactionId":"62861","paymentID":"payment_812","status":"REDIRECT","amount":250.51,"#
        + #""currency":"BDT","redirectUrl":"https://page.amanpay.io/checkout/04c881d8-8744-11f0-85ec","#
        + #""paymentType":"purchase"}"#
    static let success = #"{"transactionId":"62861","paymentID":"payment_812","status":"SUCCESS","amount":250.51,"#
        + #""currency":"BDT","paymentType":"purchase","customerName":"Mark Cooper","#
        + #""customerAccountNumber":"185927571757184"}"#
    static let declined = #"{"transactionId":"62862","paymentID":"payment_813","status":"FAILED","#
        + #""errorCode":"INSUFFICIENT_WALLET_BALANCE","errorMessage":"customer wallet lacks funds","amount":250.51,"#
        + #""currency":"BDT","paymentType":"purchase"}"#
    static let specification = #"{"additional_fields":["Otp"],"operationId":29609,"transactionId":62861,"#
        + #""status":"SPECIFICATION"}"#

    static func amanpay(_ body: String, operation: String) -> ProviderResult {
        let json = try! JSONValue.parse(body)
        return AmanpayPaymentObject(json: json).result(operation: operation, httpStatus: 200, rawBody: body)
    }

    /// A FirstPay test vector's body (shared/providers/testdata), as the client reads it.
    static func firstpay(vector: String, operation: String) throws -> ProviderResult {
        let file = try JSONValue.parse(Array(try Data(contentsOf: URL(fileURLWithPath:
            "\(providerTestdata)/firstpay_vector_\(vector).json"))))
        let body = try #require(file["body"]).compactText
        return FirstPayPayment(json: try JSONValue.parse(body)).result(operation: operation, httpStatus: 200,
                                                                        rawBody: body)
    }

    // MARK: Commands, as a producer sends them

    static func delivery(_ kind: PaymentCommandKind, id: String, data: String) -> CommandDelivery {
        let body = CommandDeliveryFixtures.body(kind, id: id, data: data)
        return CommandDeliveryFixtures.delivery(body, routingKey: kind.routingKey)
    }

    static let purchase = #"{"paymentId":"payment_812","amount":"250.51","currency":"BDT","#
        + #""customerEmail":"mark.cooper@example.com"}"#

    static func executed(_ rules: DeliveryRules, _ delivery: CommandDelivery, _ execution: CommandExecution,
                         at time: Date = time) throws -> [OutcomeMessage] {
        let command = try rules.decode(delivery).get()
        return rules.plan(executed: command, delivery: delivery, execution: execution, at: time).events
    }

    static func notification(_ id: String, provider: Provider) -> CallbackNotification {
        CallbackNotification(provider: provider, body: Array("{}".utf8), signature: nil,
                             receivedAt: time.addingTimeInterval(-0.4), id: id)
    }

    static func confirmed(_ rules: DeliveryRules, _ notification: CallbackNotification,
                          _ confirmation: CallbackConfirmation, at time: Date = time) -> [OutcomeMessage] {
        let delivery = CommandDelivery(body: notification.body, properties: notification.properties,
                                       routingKey: Topology.commandQueue(notification.provider), deliveryTag: 1,
                                       exchange: Topology.internalExchange)
        return rules.plan(notification: notification, delivery: delivery, result: .success(confirmation), at: time)
            .events
    }

    // MARK: The examples

    static func all() throws -> [Example] {
        var rules = DeliveryRules(provider: .amanpay, maxAttempts: 5)
        rules.reconcileSchedule = .default
        var firstpayRules = DeliveryRules(provider: .firstpay, maxAttempts: 5)
        firstpayRules.reconcileSchedule = .default
        var examples: [Example] = []
        func add(_ schema: String, _ title: String, _ messages: [OutcomeMessage], type: String? = nil) throws {
            let message = try #require(messages.first { $0.event.type == (type ?? messages[0].event.type) })
            examples.append(Example(schema: schema, title: title, event: message.event))
        }
        let purchase = delivery(.amanpayPurchase, id: "01JD3Q7ZK8V6M2W4X9T5R1N0PA", data: Self.purchase)

        // payment.response
        try add(response, "Amanpay purchase answered REDIRECT: the customer must act",
                executed(rules, purchase, .answered(amanpay(redirect, operation: "purchase"))))
        let declinedPurchase = delivery(.amanpayPurchase, id: "01JD3Q7ZK8V6M2W4X9T5R1N0PB",
                                        data: Self.purchase.replacingOccurrences(of: "payment_812", with: "payment_813"))
        try add(response, "Amanpay purchase declined: final, class declined",
                executed(rules, declinedPurchase, .answered(amanpay(declined, operation: "purchase"))))
        let status = delivery(.amanpayStatus, id: "01JD3Q7ZK8V6M2W4X9T5R1N0PC",
                              data: #"{"paymentId":"payment_812","paymentType":"purchase"}"#)
        try add(response, "Amanpay status read: succeeded, account number masked",
                executed(rules, status, .answered(amanpay(success, operation: "status"))))
        var larger = amanpay(redirect.replacingOccurrences(of: "250.51", with: "2505.10"), operation: "purchase")
        larger.currency = "BDT"
        try add(response, "The provider names another amount than the command: flagged in amountMismatch",
                executed(rules, purchase, .answered(larger)))
        var notFound = ProviderError(provider: .amanpay, operation: "status", errorClass: .notFound,
                                     code: .transactionNotFound, message: "no transfer with that id")
        notFound.rawBody = #"{"status":"FAILED","errorCode":"TRANSACTION_NOT_FOUND","#
            + #""errorMessage":"no transfer with that id"}"#
        let wrongPlace = delivery(.amanpayStatus, id: "01JD3Q7ZK8V6M2W4X9T5R1N0PD",
                                  data: #"{"paymentId":"payment_812","paymentType":"payout"}"#)
        try add(response, "A lookup that finds nothing: status unknown, class not_found (never failed)",
                executed(rules, wrongPlace, .providerFailed(notFound)))
        let check = ReconcileCheck(
            kind: .amanpayPurchase, account: .default, commandId: "01JD3Q7ZK8V6M2W4X9T5R1N0PA",
            paymentId: "payment_812", providerPaymentId: "62861", status: .requiresAction, providerStatus: "REDIRECT",
            amount: "250.51", currency: "BDT", step: 2, openSince: RFC3339.string(from: time))
        try add(response, "A reconciliation check found the payment changed",
                rules.plan(check: check, result: .success(amanpay(success, operation: "status")), at: later).events)
        let payIn = delivery(.firstpayPayIn, id: "01JD3Q7ZK8V6M2W4X9T5R1N0PE",
                             data: #"{"accountId":12,"paymentMethodId":"pm_bkash","amount":"500","#
                                + #""clientFieldsValues":[{"key":"phone","value":"01712345678"}],"#
                                + #""merchantPaymentId":"order-42"}"#)
        try add(response, "FirstPay pay-in answered PENDING",
                executed(firstpayRules, payIn, .answered(firstpay(vector: "a_pay_in", operation: "pay_in"))))

        // payment.callback
        try add(callback, "Amanpay callback confirmed by a status read: what the read said, the callback as evidence",
                confirmed(rules, notification("0193a1f0-7c2e-7d41-9b8a-2f4c6e8a0b12", provider: .amanpay),
                          .confirmed(claim: amanpay(success, operation: "callback"),
                                     read: amanpay(success, operation: "status"), kind: .amanpayPurchase)))
        try add(callback, "Amanpay SPECIFICATION callback: only its signature confirms it; unsigned values unverified",
                confirmed(rules, notification("0193a1f0-7c2e-7d41-9b8a-2f4c6e8a0b13", provider: .amanpay),
                          .unconfirmable(claim: amanpay(specification, operation: "callback"), kind: .amanpayPurchase)))
        try add(callback, "FirstPay correction: FAILED after SUCCESS, final to final with a newer time",
                confirmed(firstpayRules, notification("0193a1f0-7c2e-7d41-9b8a-2f4c6e8a0b14", provider: .firstpay),
                          .confirmed(claim: firstpay(vector: "d_postback_correction", operation: "postback"),
                                     read: firstpay(vector: "d_postback_correction", operation: "status"), kind: .firstpayPayIn), at: later))

        // command.failed
        let invalid = delivery(.amanpayPurchase, id: "01JD3Q7ZK8V6M2W4X9T5R1N0PF",
                               data: #"{"paymentId":"payment_814","amount":250.51,"currency":"BDT","#
                                  + #""customerEmail":"mark.cooper@example.com"}"#)
        let rejection = try #require(rules.decode(invalid).failure)
        try add(failed, "An invalid command: the command failed; status unknown, the payment is not moved",
                rules.plan(rejected: rejection, delivery: invalid, at: time).events)
        let exhausted = CommandDeliveryFixtures.delivery(
            CommandDeliveryFixtures.body(.amanpayPurchase, id: "01JD3Q7ZK8V6M2W4X9T5R1N0PA", data: Self.purchase),
            attempt: 5)
        try add(failed, "A create whose retries ran out: status unknown (it may exist), reconciled",
                executed(rules, exhausted, .providerFailed(ProviderError(
                    provider: .amanpay, operation: "purchase", errorClass: .transient, code: .timeout,
                    message: "no answer within 10s"))))

        // payment.unresolved
        let last = ReconcileCheck(
            kind: .amanpayPurchase, account: .default, commandId: "01JD3Q7ZK8V6M2W4X9T5R1N0PA",
            paymentId: "payment_812", providerPaymentId: "62861", status: .requiresAction, providerStatus: "REDIRECT",
            amount: "250.51", currency: "BDT", step: 6, openSince: RFC3339.string(from: time))
        try add(unresolved, "Still open after the last check",
                rules.plan(check: last, result: .success(amanpay(redirect, operation: "status")), at: later).events,
                type: OutcomeEvents.unresolvedType)
        try add(unresolved, "The last check's read failed: status unknown, the last observed status beside it",
                rules.plan(check: last, result: .failure(ProviderError(
                    provider: .amanpay, operation: "status", errorClass: .transient, code: .timeout,
                    message: "no answer within 10s")), at: later).events,
                type: OutcomeEvents.unresolvedType)
        return examples
    }
}

extension Result {
    var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
