import AMQP
import Foundation
@testable import PayBridge
import PayBridgeContract
import ProviderSandbox
import StrictJSON
import Testing

typealias J = JSONValue

func purchaseData(_ paymentId: String, amount: String = "250.50") -> JSONObject {
    ["paymentId": .string(paymentId), "amount": .string(amount), "currency": .string("BDT"),
     "customerEmail": .string("customer@example.com"), "paymentMethod": .string("bkash"),
     "bkashNumber": .string("01712345678")]
}

func payoutData(_ paymentId: String) -> JSONObject {
    ["paymentId": .string(paymentId), "amount": .string("1000000.00"), "currency": .string("BDT"),
     "customerEmail": .string("payee@example.com"), "customerName": .string("Mark Cooper"),
     "paymentMethod": .string("nagad"), "recipientType": .string("bank_account"),
     "recipientMobileNumber": .string("01812345678")]
}

func firstpayPaymentData(_ merchantPaymentId: String, amount: String = "500.00") -> JSONObject {
    ["accountId": .number(JSONNumber(12)), "paymentMethodId": .string("bkash-p2c"), "amount": .string(amount),
     "clientFieldsValues": .array([.object(["key": .string("phone"), "value": .string("01712345678")])]),
     "merchantPaymentId": .string(merchantPaymentId)]
}

func expectValid(_ event: RecordedEvent, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(event.schemaErrors.isEmpty, "schema violations: \(event.schemaErrors)", sourceLocation: sourceLocation)
    #expect(event.properties.messageId == event.event.id, sourceLocation: sourceLocation)
    #expect(event.properties.type == event.event.type, sourceLocation: sourceLocation)
    #expect(event.properties.contentType == "application/cloudevents+json", sourceLocation: sourceLocation)
    #expect(event.properties.persistent == true, sourceLocation: sourceLocation)
}

@Suite(.timeLimit(.minutes(3))) struct OperationsEndToEndTests {
    /// The callbacks endpoint registers its zero-valued series only for the providers that are configured (it
    /// compared non-optional client tables with `nil` and registered both).
    @Test func callbackSeriesExistOnlyForConfiguredProviders() async throws {
        try await EndToEnd.run(recordEvents: false) { world in
            var configuration = try world.configuration()
            configuration.firstpay = nil
            try await world.withPayBridge(configuration) { runtime in
                let exposition = try await MetricsScraper(adminPort: await runtime.adminPort()).scrape()
                #expect(exposition.value("paybridge_callbacks_total", ["provider": "amanpay"]) == 0)
                #expect(exposition.value("paybridge_callbacks_total", ["provider": "firstpay"]) == nil)
            }
        }
    }

    @Test func amanpayPurchaseRedirectsThenCallbackSucceeds() async throws {
        try await EndToEnd.run { world in
            try await world.withPayBridge { _ in
                let paymentId = "pay-\(UUID().uuidString.prefix(8))"
                world.sandbox.addFault(SandboxFault(provider: "amanpay", operation: "purchase", paymentId: paymentId,
                                                    initialStatus: "REDIRECT", outcome: "SUCCESS"))
                let id = try await world.send(.amanpayPurchase, data: purchaseData(paymentId))
                let response = try await world.events.first(type: OutcomeEvents.responseType, commandId: id)
                expectValid(response)
                #expect(response.routingKey == "amanpay.purchase.response")
                #expect(response.properties.correlationId == id)
                #expect(response.status == "requires_action")
                #expect(response.data["final"] == .bool(false))
                #expect(response.data["providerStatus"]?.stringValue == "REDIRECT")
                #expect(response.data["redirectUrl"]?.stringValue != nil)
                #expect(response.data["amount"]?.stringValue == "250.50")
                #expect(response.data["paymentId"]?.stringValue == paymentId)
                try await world.events.wait {
                    $0.contains { $0.event.type == OutcomeEvents.callbackType
                        && $0.data["paymentId"]?.stringValue == paymentId && $0.status == "succeeded" }
                }
                let callback = world.events.all.first {
                    $0.event.type == OutcomeEvents.callbackType && $0.data["paymentId"]?.stringValue == paymentId
                }!
                expectValid(callback)
                #expect(callback.routingKey == "amanpay.callback")
                #expect(callback.data["final"] == .bool(true))
                #expect(callback.data["operation"]?.stringValue == "purchase")
            }
        }
    }

    @Test func amanpayOTPFlowSpecifyThenSuccess() async throws {
        try await EndToEnd.run { world in
            try await world.withPayBridge { _ in
                let paymentId = "otp-\(UUID().uuidString.prefix(8))"
                world.sandbox.addFault(SandboxFault(provider: "amanpay", operation: "purchase", paymentId: paymentId,
                                                    initialStatus: "SPECIFICATION", outcome: "SUCCESS"))
                let id = try await world.send(.amanpayPurchase, data: purchaseData(paymentId))
                let response = try await world.events.first(type: OutcomeEvents.responseType, commandId: id)
                expectValid(response)
                #expect(response.status == "requires_action")
                let transactionId = try #require(response.data["providerPaymentId"]?.stringValue)
                let operationId = try #require(response.data["providerOperationId"]?.stringValue)
                #expect(response.data["additionalFields"] == .array([.string("Otp")]))

                let specifyId = try await world.send(.amanpaySpecify, data: [
                    "transactionId": .string(transactionId), "operationId": .string(operationId),
                    "additionalFields": .object(["Otp": .string("123456")]), "paymentId": .string(paymentId),
                ])
                let specified = try await world.events.first(type: OutcomeEvents.responseType, commandId: specifyId)
                expectValid(specified)
                #expect(specified.routingKey == "amanpay.specify.response")
                try await world.events.wait {
                    $0.contains { $0.event.type == OutcomeEvents.callbackType
                        && $0.data["providerPaymentId"]?.stringValue == transactionId && $0.status == "succeeded" }
                }
            }
        }
    }

    @Test func amanpayPayoutAndStatusReportTheSamePayment() async throws {
        try await EndToEnd.run { world in
            try await world.withPayBridge { _ in
                let paymentId = "out-\(UUID().uuidString.prefix(8))"
                let id = try await world.send(.amanpayPayout, data: payoutData(paymentId))
                let response = try await world.events.first(type: OutcomeEvents.responseType, commandId: id)
                expectValid(response)
                #expect(response.status == "processing")
                #expect(response.data["amount"]?.stringValue == "1000000.00")
                let statusId = try await world.send(.amanpayStatus, data: [
                    "paymentId": .string(paymentId), "paymentType": .string("payout")])
                let status = try await world.events.first(type: OutcomeEvents.responseType, commandId: statusId)
                expectValid(status)
                #expect(status.routingKey == "amanpay.status.response")
                #expect(status.data["providerPaymentId"] == response.data["providerPaymentId"])
            }
        }
    }

    @Test func amanpayCallbacksCoverEveryFinalStatus() async throws {
        try await EndToEnd.run { world in
            try await world.withPayBridge { _ in
                for (outcome, expected) in [("SUCCESS", "succeeded"), ("FAILED", "failed"), ("CANCELLED", "cancelled")] {
                    let paymentId = "fin-\(outcome.lowercased())-\(UUID().uuidString.prefix(6))"
                    world.sandbox.addFault(SandboxFault(
                        provider: "amanpay", operation: "purchase", paymentId: paymentId, initialStatus: "REDIRECT",
                        outcome: outcome, outcomeErrorCode: outcome == "FAILED" ? "INSUFFICIENT_WALLET_BALANCE" : nil))
                    _ = try await world.send(.amanpayPurchase, data: purchaseData(paymentId))
                    try await world.events.wait {
                        $0.contains { $0.event.type == OutcomeEvents.callbackType
                            && $0.data["paymentId"]?.stringValue == paymentId && $0.status == expected }
                    }
                    let event = world.events.all.first {
                        $0.event.type == OutcomeEvents.callbackType && $0.data["paymentId"]?.stringValue == paymentId
                            && $0.status == expected
                    }!
                    expectValid(event)
                    if outcome == "FAILED" {
                        #expect(event.data["error"]?["code"]?.stringValue == "INSUFFICIENT_WALLET_BALANCE")
                        #expect(event.data["error"]?["class"]?.stringValue == "declined")
                    }
                }
            }
        }
    }

    @Test func firstpayPayInWithSMSThenPostbackAndCorrection() async throws {
        try await EndToEnd.run { world in
            try await world.withPayBridge { _ in
                let merchantPaymentId = "fp-\(UUID().uuidString.prefix(8))"
                world.sandbox.addFault(SandboxFault(provider: "firstpay", operation: "pay_in",
                                                    paymentId: merchantPaymentId, requireSMS: true))
                let id = try await world.send(.firstpayPayIn, data: firstpayPaymentData(merchantPaymentId))
                let response = try await world.events.first(type: OutcomeEvents.responseType, commandId: id)
                expectValid(response)
                #expect(response.routingKey == "firstpay.pay_in.response")
                #expect(response.data["amount"]?.stringValue == "500")  // F5: JavaScript number text
                let paymentId = try #require(response.data["providerPaymentId"]?.stringValue)

                let smsId = try await world.send(.firstpaySMS, data: [
                    "paymentId": .string(paymentId), "code": .string(world.sandbox.configuration.firstpaySMSCode)])
                let sms = try await world.events.first(type: OutcomeEvents.responseType, commandId: smsId)
                expectValid(sms)
                #expect(sms.status == "processing")

                #expect(world.sandbox.completeFirstPay(merchantPaymentId: merchantPaymentId, status: "SUCCESS"))
                try await world.events.wait {
                    $0.contains { $0.event.type == OutcomeEvents.callbackType
                        && $0.data["paymentId"]?.stringValue == merchantPaymentId && $0.status == "succeeded" }
                }
                #expect(world.sandbox.flipFirstPay(merchantPaymentId: merchantPaymentId))
                try await world.events.wait {
                    $0.contains { $0.event.type == OutcomeEvents.callbackType
                        && $0.data["paymentId"]?.stringValue == merchantPaymentId && $0.status == "failed" }
                }
                for event in world.events.all where event.event.type == OutcomeEvents.callbackType {
                    expectValid(event)
                }

                let statusId = try await world.send(.firstpayStatus, data: ["merchantPaymentId": .string(merchantPaymentId)])
                let status = try await world.events.first(type: OutcomeEvents.responseType, commandId: statusId)
                expectValid(status)
                #expect(status.status == "failed")
            }
        }
    }

    @Test func firstpayPayOutIsProcessing() async throws {
        try await EndToEnd.run { world in
            try await world.withPayBridge { _ in
                let merchantPaymentId = "fpo-\(UUID().uuidString.prefix(8))"
                let id = try await world.send(.firstpayPayOut, data: firstpayPaymentData(merchantPaymentId, amount: "0.01"))
                let response = try await world.events.first(type: OutcomeEvents.responseType, commandId: id)
                expectValid(response)
                #expect(response.routingKey == "firstpay.pay_out.response")
                #expect(response.data["amount"]?.stringValue == "0.01")
                #expect(["processing", "under_review"].contains(response.status))
            }
        }
    }

    @Test func firstpayNeedCheckIsUnderReview() async throws {
        try await EndToEnd.run { world in
            try await world.withPayBridge { _ in
                let merchantPaymentId = "chk-\(UUID().uuidString.prefix(8))"
                world.sandbox.addFault(SandboxFault(provider: "firstpay", operation: "pay_in", paymentId: merchantPaymentId,
                                                    initialStatus: "NEED_CHECK"))
                let id = try await world.send(.firstpayPayIn, data: firstpayPaymentData(merchantPaymentId))
                let response = try await world.events.first(type: OutcomeEvents.responseType, commandId: id)
                expectValid(response)
                #expect(response.status == "under_review")
                #expect(response.data["providerStatus"]?.stringValue == "NEED_CHECK")
                #expect(response.data["final"] == .bool(false))
            }
        }
    }
}
