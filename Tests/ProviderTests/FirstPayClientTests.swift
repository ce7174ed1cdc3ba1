import FirstPay
import PaymentVocabulary
import ProviderCore
import ProviderSandbox
import StrictJSON
import Testing

func payment(_ id: String, _ amount: String = "500.00", method: String = "pm_bkash", postBackUrl: String? = nil,
    redirect: Bool = false) -> FirstPayPaymentRequest {
    FirstPayPaymentRequest(
        accountId: 12, paymentMethodId: method, amount: DecimalAmount(amount)!,
        clientFieldsValues: [FirstPayClientField(key: "phone", value: "01712345678")], merchantPaymentId: id,
        merchantUserId: "user-5", successRedirectUrl: redirect ? "https://merchant.example/ok" : nil,
        postBackUrl: postBackUrl)
}

@Suite("FirstPay client against the sandbox")
struct FirstPayClientTests {
    @Test func payInAndPayOutArePendingAndSigned() async throws {
        try await withSandbox { sandbox in
            try await withFirstPay(sandbox) { client in
                let r = try await client.payIn(payment("order-42", redirect: true))
                #expect(r.status == .processing)
                #expect(r.providerStatus == "PENDING")
                #expect(r.merchantPaymentId == "order-42")
                #expect(r.currency == "BDT")
                #expect(r.amount?.text == "500")
                #expect(r.redirectUrl != nil)
                #expect(r.providerPaymentId?.isEmpty == false)
                let out = try await client.payOut(payment("payout-9", "100.50", method: "pm_nagad_out"))
                #expect(out.status == .processing)
                #expect(out.amount?.text == "100.5")
                let received = sandbox.receivedRequests()
                #expect(received.count == 2)
                #expect(received.allSatisfy { $0.signatureValid })
                #expect(received[0].body.contains("\"amount\":500,"))
                #expect(received[1].body.contains("\"amount\":100.5,"))
            }
        }
    }

    @Test(arguments: [("250.5", "250.5"), ("250.50", "250.5"), ("0.01", "0.01"), ("1000000.00", "1000000")])
    func amountsRoundTripExactly(amount: String, written: String) async throws {
        try await withSandbox { sandbox in
            try await withFirstPay(sandbox) { client in
                let r = try await client.payIn(payment("a-\(amount)", amount))
                #expect(r.amount?.text == written)
                #expect(r.amount == DecimalAmount(amount))
                #expect(sandbox.receivedRequests()[0].body.contains("\"amount\":\(written),"))
                let read = try await client.status(merchantPaymentId: "a-\(amount)")
                #expect(read.amount == DecimalAmount(amount))
            }
        }
    }

    @Test func statusByEitherIdAndNotFound() async throws {
        try await withSandbox { sandbox in
            sandbox.addFault(SandboxFault(provider: "firstpay", paymentId: "nc-1", initialStatus: "NEED_CHECK"))
            try await withFirstPay(sandbox) { client in
                let created = try await client.payIn(payment("nc-1"))
                #expect(created.status == .underReview)
                let byId = try await client.status(paymentId: created.providerPaymentId)
                let byMerchant = try await client.status(merchantPaymentId: "nc-1")
                #expect(byId.providerPaymentId == byMerchant.providerPaymentId)
                let e = await #expect(throws: ProviderError.self) { try await client.status(merchantPaymentId: "nope") }
                #expect(e?.errorClass == .notFound)
                #expect(e?.code.rawValue == "NOT_FOUND")
            }
        }
    }

    @Test func smsConfirmationFlow() async throws {
        try await CallbackReceiver.with { receiver in
            try await withSandbox({ $0.firstpayPostbackURL = receiver.url }) { sandbox in
                sandbox.addFault(SandboxFault(provider: "firstpay", paymentId: "sms-1", requireSMS: true))
                try await withFirstPay(sandbox) { client in
                    let created = try await client.payIn(payment("sms-1"))
                    let id = try #require(created.providerPaymentId)
                    let wrong = try await client.confirmSMS(paymentId: id, code: "0000")
                    #expect(!wrong.isSucceed)
                    let ok = try await client.confirmSMS(paymentId: id, code: "1234")
                    #expect(ok.isSucceed)
                    let postback = await receiver.next(1)[0]
                    let r = try client.verifyPostback(body: postback.body)
                    #expect(r.status == .succeeded)
                    #expect(r.merchantPaymentId == "sms-1")
                    let again = await #expect(throws: ProviderError.self) {
                        try await client.confirmSMS(paymentId: id, code: "1234")
                    }
                    #expect(again?.code.rawValue == "SMS_NOT_REQUIRED")
                    #expect(again?.errorClass == .invalidCommand)
                }
            }
        }
    }

    @Test func paymentMethods() async throws {
        try await withSandbox { sandbox in
            try await withFirstPay(sandbox) { client in
                let list = try await client.paymentMethods(
                    type: .payIn, locale: "en", merchantPaymentId: "m-1", merchantUserId: "u-1", amount: DecimalAmount("500")!)
                #expect((list.arrayElements?.count ?? 0) >= 2)
                let one = try await client.paymentMethods(
                    id: "pm_bkash", merchantPaymentId: "m-1", merchantUserId: "u-1", amount: DecimalAmount("500")!)
                #expect(one["id"]?.stringValue == "pm_bkash")
                #expect(sandbox.receivedRequests().allSatisfy { $0.signatureValid })
            }
        }
    }

    @Test func authenticationFailuresAreConfigurationErrors() async throws {
        try await withSandbox { sandbox in
            try await withFirstPay(sandbox, privateKeyFile: "firstpay_private.pem") { client in
                let e = await #expect(throws: ProviderError.self) { try await client.payIn(payment("auth-1")) }
                #expect(e?.errorClass == .configuration)
                #expect(e?.code.rawValue == "UNAUTHORIZED")
            }
            try await withFirstPay(sandbox, publicKeyOverride: try testdata("merchant_public.pem")) { client in
                let e = await #expect(throws: ProviderError.self) { try await client.status(merchantPaymentId: "x") }
                #expect(e?.code.rawValue == "NO_KEY")
                #expect(e?.errorClass == .configuration)
            }
            try await withFirstPay(sandbox) { client in
                for code in ["NO_LOGIN", "NO_TOKEN", "NO_KEY", "UNAUTHORIZED"] {
                    sandbox.addFault(SandboxFault(provider: "firstpay", times: 1, errorCode: code))
                    let e = await #expect(throws: ProviderError.self) { try await client.status(merchantPaymentId: "x") }
                    #expect(e?.code.rawValue == code)
                    #expect(e?.errorClass == .configuration)
                    #expect(e?.httpStatus == 401)
                }
                sandbox.addFault(SandboxFault(provider: "firstpay", times: 1, errorCode: "ACCESS_DENIED"))
                let denied = await #expect(throws: ProviderError.self) { try await client.status(merchantPaymentId: "x") }
                #expect(denied?.errorClass == .invalidCommand)
                sandbox.addFault(SandboxFault(provider: "firstpay", times: 1, errorCode: "Unexpected token"))
                let bad = await #expect(throws: ProviderError.self) { try await client.payIn(payment("bad-1")) }
                #expect(bad?.errorClass == .invalidCommand)
                #expect(bad?.httpStatus == 400)
                #expect(sandbox.paymentCount == 0)
            }
            #expect(sandbox.receivedRequests().contains { !$0.signatureValid })
        }
    }

    @Test(arguments: TransportKind.allCases)
    func serverErrorsAreRetriedWithTheExactSchedule(_ kind: TransportKind) async throws {
        try await withSandbox { sandbox in
            sandbox.addFault(SandboxFault(provider: "firstpay", operation: "pay_in", times: 2, httpStatus: 500))
            let clock = TestClock()
            try await withFirstPay(sandbox, clock: clock, transport: kind) { client in
                let r = try await client.payIn(payment("r-1"))
                #expect(r.status == .processing)
                #expect(clock.sleeps == [.milliseconds(50), .milliseconds(100)])
                #expect(sandbox.receivedRequests().map(\.operation) == ["pay_in", "status", "pay_in", "status", "pay_in"])
                #expect(sandbox.paymentCount == 1)
            }
        }
    }

    @Test func badResponseSignatureIsAnError() async throws {
        try await withSandbox { sandbox in
            try await withFirstPay(sandbox) { client in
                _ = try await client.payIn(payment("s-1"))
                sandbox.completeFirstPay(merchantPaymentId: "s-1", status: "SUCCESS")
                sandbox.addFault(SandboxFault(provider: "firstpay", operation: "status", badSignature: true))
                let e = await #expect(throws: ProviderError.self) { try await client.status(merchantPaymentId: "s-1") }
                #expect(e?.code.rawValue == "INVALID_RESPONSE_SIGNATURE")
            }
        }
    }

    @Test(arguments: TransportKind.allCases)
    func ambiguousCreateIsResolvedByAStatusReadWithoutDuplicate(_ kind: TransportKind) async throws {
        try await withSandbox { sandbox in
            sandbox.addFault(SandboxFault(provider: "firstpay", operation: "pay_in", times: 1, hangAfterProcessingMs: 3000))
            try await withFirstPay(sandbox, requestTimeout: .milliseconds(400), transport: kind) { client in
                let r = try await client.payIn(payment("amb-1"))
                #expect(r.status == .processing)
                #expect(r.merchantPaymentId == "amb-1")
                #expect(sandbox.receivedRequests().map(\.operation) == ["pay_in", "status"])
                #expect(sandbox.paymentCount == 1)
            }
        }
    }

    @Test func postbacksCorrectionsAndDuplicates() async throws {
        try await CallbackReceiver.with(failFirst: 1) { receiver in
            try await withSandbox({ $0.firstpayPostbackURL = receiver.url }) { sandbox in
                sandbox.addFault(SandboxFault(provider: "firstpay", paymentId: "pb-1", outcome: "SUCCESS"))
                try await withFirstPay(sandbox) { client in
                    let created = try await client.payIn(payment("pb-1"))
                    let first = await receiver.next(2)  // a 500, then the retry answered 200
                    #expect(first[0].body == first[1].body)
                    let success = try client.verifyPostback(body: first[1].body)
                    #expect(success.status == .succeeded)
                    #expect(success.providerPaymentId == created.providerPaymentId)
                    #expect(sandbox.flipFirstPay(merchantPaymentId: "pb-1"))
                    let flipped = try client.verifyPostback(body: await receiver.next(1)[0].body)
                    #expect(flipped.status == .failed)
                    #expect(flipped.error?.code == "INCORRECT_AMOUNT")
                    #expect(sandbox.resendFirstPayPostback(merchantPaymentId: "pb-1"))
                    let duplicate = try client.verifyPostback(body: await receiver.next(1)[0].body)
                    #expect(duplicate.providerPaymentId == flipped.providerPaymentId)
                    #expect(duplicate.providerStatus == flipped.providerStatus)
                    // Tampered postback: rejected.
                    let text = String(decoding: first[1].body, as: UTF8.self).replacingOccurrences(
                        of: "\"SUCCESS\"", with: "\"FAILED\"")
                    let e = #expect(throws: ProviderError.self) { try client.verifyPostback(body: Array(text.utf8)) }
                    #expect(e?.code.rawValue == "INVALID_POSTBACK_SIGNATURE")
                }
            }
        }
    }

    @Test func olderPostbackFormatWithNumericIdAndCurrency() async throws {
        let signer = try FirstPaySigner(privateKeyPEM: Secret(try testdata("firstpay_private.pem")))
        let body = try signer.signedBody([
            JSONMember("id", .number(JSONNumber(123456))), JSONMember("currency", .string("BDT")),
            JSONMember("paymentMethodId", .string("pm_bkash")), JSONMember("status", .string("SUCCESS")),
            JSONMember("amount", .number(JSONNumber(trusted: "500.0"))), JSONMember("payments", .array([.object([])])),
            JSONMember("clientFieldsValues", .array([])), JSONMember("createdAt", .string("2024-05-01T10:00:00.000Z")),
            JSONMember("publicKey", .string(try testdata("firstpay_public.pem"))),
        ])
        try await withSandbox { sandbox in
            try await withFirstPay(sandbox) { client in
                let r = try client.verifyPostback(body: Array(body.compactText.utf8))
                #expect(r.providerPaymentId == "123456")
                #expect(r.currency == "BDT")
                #expect(r.amount == DecimalAmount("500"))
                #expect(r.status == .succeeded)
                // Unknown statuses are kept raw, never a crash.
                let odd = try signer.signedBody([
                    JSONMember("id", .string("x")), JSONMember("status", .string("REVERSED")),
                    JSONMember("publicKey", .string(try testdata("firstpay_public.pem"))),
                ])
                let u = try client.verifyPostback(body: Array(odd.compactText.utf8))
                #expect(u.providerStatus == "REVERSED")
                #expect(u.status == .unknown)
            }
        }
    }
}
