import Amanpay
import PaymentVocabulary
import ProviderCore
import ProviderSandbox
import StrictJSON
import Testing

func purchase(_ id: String, _ amount: String = "250.51", method: AmanpayPaymentMethod? = nil, wallet: String? = nil,
    notifyUrl: String? = nil) -> AmanpayPurchaseRequest {
    AmanpayPurchaseRequest(
        paymentId: id, amount: DecimalAmount(amount)!, currency: "BDT", customerEmail: "c@example.com",
        paymentMethod: method, walletNumber: wallet, notifyUrl: notifyUrl)
}

@Suite("Amanpay client against the sandbox")
struct AmanpayClientTests {
    @Test func purchaseWithoutMethodRedirects() async throws {
        try await withSandbox { sandbox in
            try await withAmanpay(sandbox) { client in
                let r = try await client.purchase(purchase("payment_812"))
                #expect(r.status == .requiresAction)
                #expect(r.providerStatus == "REDIRECT")
                #expect(r.redirectUrl?.hasPrefix(sandbox.baseURL + "/checkout/") == true)
                #expect(r.merchantPaymentId == "payment_812")
                #expect(r.providerPaymentId == "62861")
                #expect(r.amount?.text == "250.51")
                #expect(r.currency == "BDT")
                #expect(!r.isFinal)
                #expect(r.error == nil)
                #expect(r.rawBody.contains("\"status\":\"REDIRECT\""))
                let received = sandbox.receivedRequests()
                #expect(received.count == 1)
                #expect(received[0].signatureValid)
                #expect(received[0].body.contains("\"amount\":250.51,"))
            }
        }
    }

    @Test(arguments: [("250.5", "250.50"), ("250.50", "250.50"), ("0.01", "0.01"), ("1000000.00", "1000000.00")])
    func amountsRoundTripExactly(amount: String, written: String) async throws {
        try await withSandbox { sandbox in
            try await withAmanpay(sandbox) { client in
                let created = try await client.purchase(purchase("p-\(amount)", amount))
                #expect(created.amount?.text == written)
                #expect(created.amount == DecimalAmount(amount))
                #expect(sandbox.receivedRequests()[0].body.contains("\"amount\":\(written),"))
                let read = try await client.purchaseStatus(paymentId: "p-\(amount)")
                #expect(read.amount?.text == written)
            }
        }
    }

    @Test func purchaseWithWalletIsPendingAndPayoutToo() async throws {
        try await withSandbox { sandbox in
            try await withAmanpay(sandbox) { client in
                let r = try await client.purchase(purchase("payment_813", method: .bkash, wallet: "01712345678"))
                #expect(r.status == .processing)
                #expect(r.providerStatus == "PENDING")
                #expect(sandbox.receivedRequests()[0].body.contains("\"bkashNumber\":\"01712345678\""))
                #expect(sandbox.receivedRequests()[0].signatureValid)
                let payout = try await client.payout(
                    AmanpayPayoutRequest(
                        paymentId: "payout_77", amount: DecimalAmount("1000")!, currency: "PKR",
                        customerEmail: "c@example.com", customerName: "Mark Cooper", paymentMethod: .jazzcash,
                        recipientType: "bank_account", recipientMobileNumber: "03001234567"))
                #expect(payout.status == .processing)
                #expect(payout.amount?.text == "1000.00")
                let payoutNoMobile = try await client.payout(
                    AmanpayPayoutRequest(
                        paymentId: "payout_78", amount: DecimalAmount("1000.00")!, currency: "PKR",
                        customerEmail: "c@example.com", customerName: "Mark Cooper", paymentMethod: .jazzcash,
                        recipientType: "bank_account"))
                #expect(payoutNoMobile.status == .processing)
                #expect(sandbox.receivedRequests().allSatisfy { $0.signatureValid })
                let read = try await client.payoutStatus(paymentId: "payout_77")
                #expect(read.providerPaymentId == payout.providerPaymentId)
                // Purchases and payouts are separate: the payout is not a purchase.
                let notFound = await #expect(throws: ProviderError.self) {
                    try await client.purchaseStatus(paymentId: "payout_77")
                }
                #expect(notFound?.errorClass == .notFound)
                #expect(notFound?.code.rawValue == "TRANSACTION_NOT_FOUND")
            }
        }
    }

    @Test func balanceListsEveryCurrency() async throws {
        try await withSandbox { sandbox in
            try await withAmanpay(sandbox) { client in
                let b = try await client.balance()
                #expect(b.resultCode == "OK")
                #expect(b.balances.map(\.currency) == ["BDT", "PKR"])
                #expect(b.balances[1].amount.text == "5849.76")
            }
        }
    }

    @Test func otpFlowFromSpecificationToSuccessCallback() async throws {
        try await CallbackReceiver.with { receiver in
            try await withSandbox({ $0.amanpayCallbackURL = receiver.url }) { sandbox in
                sandbox.addFault(SandboxFault(provider: "amanpay", paymentId: "otp-1", initialStatus: "SPECIFICATION"))
                try await withAmanpay(sandbox) { client in
                    let r = try await client.purchase(purchase("otp-1", method: .nagad, wallet: "01812345678"))
                    #expect(r.status == .requiresAction)
                    #expect(r.providerStatus == "SPECIFICATION")
                    #expect(r.additionalFields == ["Otp"])
                    let operationId = try #require(r.operationId)
                    let spec = await receiver.next(1)[0]
                    let specResult = try client.verifyCallback(body: spec.body, authorization: spec.authorization)
                    #expect(specResult.providerStatus == "SPECIFICATION")
                    #expect(specResult.operationId == operationId)
                    let specified = try await client.specify(
                        transactionId: try #require(r.providerPaymentId), operationId: operationId,
                        additionalFields: ["Otp": "123456"])
                    #expect(specified.status == .processing)
                    let final = await receiver.next(1)[0]
                    let outcome = try client.verifyCallback(body: final.body, authorization: final.authorization)
                    #expect(outcome.status == .succeeded)
                    #expect(outcome.isFinal)
                    #expect(outcome.merchantPaymentId == "otp-1")
                }
            }
        }
    }

    @Test func everyDeclineCodeIsAFinalFailure() async throws {
        try await withSandbox { sandbox in
            try await withAmanpay(sandbox) { client in
                for code in AmanpayErrorCode.declines.sorted() {
                    sandbox.addFault(SandboxFault(provider: "amanpay", paymentId: "d-\(code)", errorCode: code))
                    let r = try await client.purchase(purchase("d-\(code)"))
                    #expect(r.status == .failed)
                    #expect(r.isFinal)
                    #expect(r.error?.code == code)
                    #expect(r.error?.errorClass == .declined)
                }
            }
        }
    }

    @Test func wrongSecretIsAConfigurationFailureNotADecline() async throws {
        try await withSandbox { sandbox in
            try await withAmanpay(sandbox, secret: "wrong") { client in
                let e = await #expect(throws: ProviderError.self) { try await client.purchase(purchase("cfg-1")) }
                #expect(e?.errorClass == .configuration)
                #expect(e?.code.rawValue == "INVALID_API_KEY")
                #expect(e?.description.contains("wrong") == false)
                #expect(sandbox.receivedRequests().first?.signatureValid == false)
                #expect(sandbox.paymentCount == 0)
            }
        }
    }

    @Test func circuitOpensAfterRepeatedConfigurationFailures() async throws {
        try await withSandbox { sandbox in
            try await withAmanpay(sandbox, secret: "wrong", circuit: .init(failureThreshold: 2)) { client in
                for _ in 0..<2 {
                    _ = await #expect(throws: ProviderError.self) { try await client.balance() }
                }
                #expect(client.breaker.currentState == .open)
                let e = await #expect(throws: ProviderError.self) { try await client.balance() }
                #expect(e?.isCircuitOpen == true)
                #expect(sandbox.receivedRequests().count == 2)
            }
        }
    }

    @Test(arguments: TransportKind.allCases)
    func fiveHundredsAreRetriedWithStatusReadsAndNoDuplicate(_ kind: TransportKind) async throws {
        try await withSandbox { sandbox in
            sandbox.addFault(SandboxFault(provider: "amanpay", operation: "purchase", times: 2, httpStatus: 503))
            let clock = TestClock()
            try await withAmanpay(sandbox, clock: clock, transport: kind) { client in
                let r = try await client.purchase(purchase("t-1"))
                #expect(r.status == .requiresAction)
                // Full jitter with unit 0.5: ceilings 100 ms, 200 ms.
                #expect(clock.sleeps == [.milliseconds(50), .milliseconds(100)])
                #expect(sandbox.receivedRequests().map(\.operation) == ["purchase", "status", "purchase", "status", "purchase"])
                #expect(sandbox.paymentCount == 1)
            }
        }
    }

    @Test(arguments: TransportKind.allCases)
    func tooManyRequestsHonoursRetryAfterWithoutAStatusRead(_ kind: TransportKind) async throws {
        try await withSandbox { sandbox in
            sandbox.addFault(
                SandboxFault(provider: "amanpay", operation: "purchase", times: 1, httpStatus: 429, retryAfterSeconds: 1))
            let clock = TestClock()
            try await withAmanpay(sandbox, clock: clock, transport: kind) { client in
                let r = try await client.purchase(purchase("t-429"))
                #expect(r.status == .requiresAction)
                #expect(clock.sleeps == [.seconds(1)])
                #expect(sandbox.receivedRequests().map(\.operation) == ["purchase", "purchase"])
            }
        }
    }

    @Test(arguments: TransportKind.allCases)
    func retriesExhaustedIsATransientError(_ kind: TransportKind) async throws {
        try await withSandbox { sandbox in
            sandbox.addFault(SandboxFault(provider: "amanpay", operation: "status", httpStatus: 500))
            let clock = TestClock()
            try await withAmanpay(sandbox, clock: clock, transport: kind) { client in
                let e = await #expect(throws: ProviderError.self) { try await client.purchaseStatus(paymentId: "x") }
                #expect(e?.errorClass == .transient)
                #expect(e?.attempts == 4)
                #expect(clock.sleeps == [.milliseconds(50), .milliseconds(100), .milliseconds(200)])
            }
        }
    }

    @Test func transientProviderCodeOnCreateReadsStatusThenResends() async throws {
        try await withSandbox { sandbox in
            sandbox.addFault(
                SandboxFault(provider: "amanpay", operation: "purchase", paymentId: "g-1", times: 1, errorCode: "GENERAL_ERROR"))
            try await withAmanpay(sandbox) { client in
                let r = try await client.purchase(purchase("g-1"))
                #expect(r.status == .requiresAction)
                #expect(sandbox.receivedRequests().map(\.operation) == ["purchase", "status", "purchase"])
                #expect(sandbox.paymentCount == 1)
            }
        }
    }

    @Test func transferAlreadyCompletedAdoptsTheStatus() async throws {
        try await withSandbox { sandbox in
            sandbox.addFault(
                SandboxFault(provider: "amanpay", operation: "purchase", paymentId: "done-1", errorCode: "TRANSFER_ALREADY_COMPLETED"))
            try await withAmanpay(sandbox) { client in
                let r = try await client.purchase(purchase("done-1"))
                #expect(r.status == .succeeded)
                #expect(r.operation == "purchase")
            }
        }
    }

    @Test func badResponseSignatureIsNeverASuccess() async throws {
        try await withSandbox { sandbox in
            try await withAmanpay(sandbox) { client in
                _ = try await client.purchase(purchase("sig-1"))
                sandbox.completeAmanpay(paymentId: "sig-1", status: "SUCCESS")
                sandbox.addFault(SandboxFault(provider: "amanpay", operation: "status", badSignature: true))
                let e = await #expect(throws: ProviderError.self) { try await client.purchaseStatus(paymentId: "sig-1") }
                #expect(e?.code.rawValue == "INVALID_RESPONSE_SIGNATURE")
                sandbox.addFault(SandboxFault(provider: "amanpay", operation: "purchase", badSignature: true))
                let e2 = await #expect(throws: ProviderError.self) { try await client.purchase(purchase("sig-2")) }
                #expect(e2?.code.rawValue == "INVALID_RESPONSE_SIGNATURE")
            }
        }
    }

    @Test(arguments: TransportKind.allCases)
    func ambiguousCreateIsResolvedByAStatusReadWithoutDuplicate(_ kind: TransportKind) async throws {
        try await withSandbox { sandbox in
            sandbox.addFault(
                SandboxFault(provider: "amanpay", operation: "purchase", times: 1, hangAfterProcessingMs: 3000))
            try await withAmanpay(sandbox, requestTimeout: .milliseconds(400), transport: kind) { client in
                let r = try await client.purchase(purchase("amb-1"))
                #expect(r.status == .requiresAction)
                #expect(r.merchantPaymentId == "amb-1")
                #expect(sandbox.receivedRequests().map(\.operation) == ["purchase", "status"])
                #expect(sandbox.paymentCount == 1)
            }
        }
    }

    @Test(arguments: TransportKind.allCases)
    func ambiguousCreateThatStaysUnreadableIsUnknown(_ kind: TransportKind) async throws {
        try await withSandbox { sandbox in
            sandbox.addFault(
                SandboxFault(provider: "amanpay", operation: "purchase", times: 1, hangAfterProcessingMs: 3000))
            sandbox.addFault(SandboxFault(provider: "amanpay", operation: "status", httpStatus: 503))
            try await withAmanpay(sandbox, requestTimeout: .milliseconds(400), transport: kind) { client in
                let r = try await client.purchase(purchase("amb-2", "10.00"))
                #expect(r.status == .unknown)
                #expect(r.error?.errorClass == .unknown)
                #expect(r.merchantPaymentId == "amb-2")
                #expect(r.amount?.text == "10.00")
                #expect(sandbox.receivedRequests().filter { $0.operation == "purchase" }.count == 1)
            }
        }
    }

    @Test func callbacksAreRetriedUntil2xxAndVerify() async throws {
        try await CallbackReceiver.with(failFirst: 2) { receiver in
            try await withSandbox { sandbox in
                try await withAmanpay(sandbox) { client in
                    _ = try await client.purchase(purchase("cb-1", notifyUrl: receiver.url))
                    #expect(sandbox.completeAmanpay(paymentId: "cb-1", status: "FAILED", errorCode: "INSUFFICIENT_WALLET_BALANCE"))
                    let got = await receiver.next(3)
                    for g in got {
                        let r = try client.verifyCallback(body: g.body, authorization: g.authorization)
                        #expect(r.status == .failed)
                        #expect(r.error?.code == "INSUFFICIENT_WALLET_BALANCE")
                        #expect(r.error?.errorClass == .declined)
                    }
                    // A final status never changes.
                    #expect(!sandbox.completeAmanpay(paymentId: "cb-1", status: "SUCCESS"))
                }
            }
        }
    }

    @Test func callbacksWithBadSignaturesAreRejected() async throws {
        try await withSandbox { sandbox in
            try await withAmanpay(sandbox) { client in
                let vectors = try testdataJSON("amanpay_vectors.json").arrayElements!.filter { $0["body"] != nil }
                for v in vectors {
                    let body = Array(v["body"]!.stringValue!.utf8)
                    let header = String(v["header"]!.stringValue!.dropFirst("Authorization: ".count))
                    let ok = try client.verifyCallback(body: body, authorization: header)
                    #expect(ok.providerPaymentId == "62861")
                    let e = #expect(throws: ProviderError.self) {
                        try client.verifyCallback(body: body, authorization: String(header.reversed()))
                    }
                    #expect(e?.code.rawValue == "INVALID_CALLBACK_SIGNATURE")
                    #expect(throws: ProviderError.self) { try client.verifyCallback(body: body, authorization: nil) }
                }
                let success = vectors[1]["body"]!.stringValue!
                let header = String(vectors[1]["header"]!.stringValue!.dropFirst("Authorization: ".count))
                let tampered = success.replacingOccurrences(of: "250.51", with: "2500.51")
                #expect(throws: ProviderError.self) {
                    try client.verifyCallback(body: Array(tampered.utf8), authorization: header)
                }
                // A7/A8: SPECIFICATION callback with integer ids.
                let spec = try client.verifyCallback(
                    body: Array(vectors[3]["body"]!.stringValue!.utf8),
                    authorization: String(vectors[3]["header"]!.stringValue!.dropFirst("Authorization: ".count)))
                #expect(spec.operationId == "29609")
                #expect(spec.additionalFields == ["Otp"])
                #expect(spec.status == .requiresAction)
            }
        }
    }
}

/// Amanpay documents that more fields may exist: a request's additional fields are sent after the documented ones,
/// unsigned, never overriding one; a payout's `returnUrl` is sent.
@Suite("Amanpay request fields")
struct AmanpayRequestFieldsTests {
    @Test func additionalFieldsFollowTheDocumentedOnesAndNeverOverrideThem() async throws {
        try await withSandbox { sandbox in
            try await withAmanpay(sandbox) { client in
                var request = purchase("payment_900", method: .bkash, wallet: "01712345678")
                request.additionalFields = [
                    JSONMember("campaign", .string("spring")), JSONMember("amount", .string("1.00")),
                    JSONMember("basket", .object(["items": .number(JSONNumber(3))])),
                ]
                _ = try await client.purchase(request)
                let sent = try #require(sandbox.receivedRequests().first)
                #expect(sent.signatureValid)
                #expect(sent.body.hasSuffix(#","campaign":"spring","basket":{"items":3}}"#))
                #expect(sent.body.contains("\"amount\":250.51,") && !sent.body.contains("1.00"))
            }
        }
    }

    @Test func aPayoutSendsItsReturnUrlAndAdditionalFields() async throws {
        try await withSandbox { sandbox in
            try await withAmanpay(sandbox) { client in
                _ = try await client.payout(
                    AmanpayPayoutRequest(
                        paymentId: "payout_90", amount: DecimalAmount("10")!, currency: "PKR",
                        customerEmail: "c@example.com", customerName: "Mark Cooper", paymentMethod: .jazzcash,
                        recipientType: "bank_account", returnUrl: "https://shop.example/back",
                        additionalFields: [JSONMember("reference", .string("inv-9"))]))
                let sent = try #require(sandbox.receivedRequests().first)
                #expect(sent.signatureValid)
                #expect(sent.body.contains(#""returnUrl":"https://shop.example/back""#))
                #expect(sent.body.hasSuffix(#","reference":"inv-9"}"#))
            }
        }
    }
}
