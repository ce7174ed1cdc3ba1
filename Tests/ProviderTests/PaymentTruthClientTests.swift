import Amanpay
import FirstPay
import PaymentVocabulary
import ProviderCore
import ProviderSandbox
import Testing

/// In the provider clients: the right classes, `TRANSFER_ALREADY_COMPLETED` adopted, re-creates
/// only on the provider's "does not exist", and bad signatures as the command's `provider_error`.
@Suite("Right classes and re-creates")
struct PaymentTruthClientTests {
    // MARK: A FAILED payment is final and never `transient` (amanpay.md §4, §5)

    @Test(arguments: ["GENERAL_ERROR", "CUSTOMER_BANK_UNREACHABLE"])
    func aFailedPaymentWithATransientCodeReadByStatusIsFinalAndDeclined(code: String) async throws {
        try await withSandbox { sandbox in
            try await withAmanpay(sandbox) { client in
                _ = try await client.purchase(purchase("ff-1"))
                #expect(sandbox.completeAmanpay(paymentId: "ff-1", status: "FAILED", errorCode: code))
                let read = try await client.purchaseStatus(paymentId: "ff-1")
                #expect(read.status == .failed)
                #expect(read.isFinal)
                #expect(read.error?.code == code)
                #expect(read.error?.errorClass == .declined)
            }
        }
    }

    @Test func aCreateAnsweredWithASignedFailedPaymentAndATransientCodeIsThatPaymentsFinalFailure() async throws {
        try await withSandbox { sandbox in
            try await withAmanpay(sandbox) { client in
                _ = try await client.purchase(purchase("ff-2"))
                #expect(sandbox.completeAmanpay(paymentId: "ff-2", status: "FAILED", errorCode: "GENERAL_ERROR"))
                // A5: the same paymentId again answers the existing (FAILED) payment, signed.
                let again = try await client.purchase(purchase("ff-2"))
                #expect(again.status == .failed)
                #expect(again.error?.errorClass == .declined)
                #expect(sandbox.receivedRequests().map(\.operation) == ["purchase", "purchase"],
                        "no retry and no status read: the payment is over")
            }
        }
    }

    @Test func theFailedClassRuleIsPlainValues() {
        #expect(AmanpayErrorCode.errorClass(of: "GENERAL_ERROR", onStatus: .failed) == .declined)
        #expect(AmanpayErrorCode.errorClass(of: "CUSTOMER_BANK_UNREACHABLE", onStatus: .failed) == .declined)
        #expect(AmanpayErrorCode.errorClass(of: "GENERAL_ERROR", onStatus: nil) == .transient,
                "a synchronous failure naming no payment may still be retried (A4, A5)")
        #expect(AmanpayErrorCode.errorClass(of: "INSUFFICIENT_WALLET_BALANCE", onStatus: .failed) == .declined)
        #expect(AmanpayErrorCode.errorClass(of: "INVALID_API_KEY", onStatus: .failed) == .configuration)
    }

    // MARK: TRANSFER_ALREADY_COMPLETED adopts the status (amanpay.md §5)

    @Test func transferAlreadyCompletedOnAStatusReadReadsAgainAndAdoptsTheStatus() async throws {
        try await withSandbox { sandbox in
            try await withAmanpay(sandbox) { client in
                _ = try await client.purchase(purchase("tac-1"))
                sandbox.addFault(SandboxFault(provider: "amanpay", operation: "status", paymentId: "tac-1", times: 1,
                                              errorCode: "TRANSFER_ALREADY_COMPLETED"))
                let read = try await client.purchaseStatus(paymentId: "tac-1")
                #expect(read.providerStatus == "REDIRECT")
                #expect(read.operation == "status")
                #expect(sandbox.receivedRequests().map(\.operation) == ["purchase", "status", "status"])
            }
        }
    }

    @Test func transferAlreadyCompletedOnSpecifyAdoptsThePurchaseStatus() async throws {
        try await withSandbox { sandbox in
            sandbox.addFault(SandboxFault(provider: "amanpay", paymentId: "tac-2", initialStatus: "SPECIFICATION"))
            try await withAmanpay(sandbox) { client in
                let created = try await client.purchase(purchase("tac-2"))
                let transactionId = try #require(created.providerPaymentId)
                let operationId = try #require(created.operationId)
                sandbox.addFault(SandboxFault(provider: "amanpay", operation: "specify", times: 2,
                                              errorCode: "TRANSFER_ALREADY_COMPLETED"))
                let adopted = try await client.specify(
                    transactionId: transactionId, operationId: operationId, additionalFields: ["Otp": "123456"],
                    paymentId: "tac-2")
                #expect(adopted.operation == "specify")
                #expect(adopted.providerStatus == "SPECIFICATION")
                #expect(adopted.merchantPaymentId == "tac-2")
                // Without the merchant's paymentId there is no status to read: processing, never a failure.
                let unread = try await client.specify(
                    transactionId: transactionId, operationId: operationId, additionalFields: ["Otp": "123456"])
                #expect(unread.status == .processing)
                #expect(unread.error == nil)
                #expect(sandbox.receivedRequests().map(\.operation) == ["purchase", "specify", "status", "specify"])
            }
        }
    }

    // MARK: A5 / F8: re-create only on the provider's "does not exist"

    @Test func onlyTransactionNotFoundLetsAnAmanpayCreateBeSentAgain() {
        func error(_ code: String, _ errorClass: ErrorClass) -> ProviderError {
            ProviderError(provider: .amanpay, operation: "status", errorClass: errorClass, code: .init(rawValue: code), message: "")
        }
        #expect(AmanpayErrorCode.isPaymentNotFound(error("TRANSACTION_NOT_FOUND", .notFound)))
        #expect(!AmanpayErrorCode.isPaymentNotFound(error("TRANSFER_ALREADY_COMPLETED", .notFound)))
        #expect(!AmanpayErrorCode.isPaymentNotFound(error("INVALID_RESPONSE_SIGNATURE", .providerError)))
        #expect(!AmanpayErrorCode.isPaymentNotFound(error("TIMEOUT", .transient)))
    }

    @Test func aStatusReadThatKeepsSayingTransferAlreadyCompletedNeverLetsAnAmanpayCreateBeSent() async throws {
        try await withSandbox { sandbox in
            sandbox.addFault(SandboxFault(provider: "amanpay", operation: "status", paymentId: "tac-3",
                                          errorCode: "TRANSFER_ALREADY_COMPLETED"))
            try await withAmanpay(sandbox) { client in
                let e = await #expect(throws: ProviderError.self) {
                    try await client.purchase(purchase("tac-3"), statusFirst: true)
                }
                #expect(e?.errorClass == .transient)
                #expect(!sandbox.receivedRequests().contains { $0.operation == "purchase" })
            }
        }
    }

    @Test func aFirstPay404ThatIsNotNotFoundNeverLetsACreateBeSentAgain() async throws {
        try await withSandbox { sandbox in
            // A 404 with another body (a wrong F3 status path, a proxy's page) says nothing about the payment.
            sandbox.addFault(SandboxFault(provider: "firstpay", operation: "status", httpStatus: 404))
            try await withFirstPay(sandbox) { client in
                let e = await #expect(throws: ProviderError.self) {
                    try await client.payIn(payment("fp-404"), statusFirst: true)
                }
                #expect(e?.errorClass == .providerError)
                #expect(e?.code.rawValue == "HTTP_404")
                #expect(sandbox.receivedRequests().map(\.operation) == ["status"], "no pay_in was sent")
            }
        }
    }

    @Test func onlyA404NotFoundLetsAFirstPayCreateBeSentAgain() {
        func error(_ code: String, _ errorClass: ErrorClass, _ http: Int?) -> ProviderError {
            ProviderError(provider: .firstpay, operation: "status", errorClass: errorClass, code: .init(rawValue: code), message: "",
                          httpStatus: http)
        }
        #expect(FirstPayClient.isPaymentNotFound(error("NOT_FOUND", .notFound, 404)))
        #expect(!FirstPayClient.isPaymentNotFound(error("HTTP_404", .providerError, 404)))
        #expect(!FirstPayClient.isPaymentNotFound(error("NOT_FOUND", .notFound, nil)))
    }

    // MARK: A bad response signature is the command's provider_error

    @Test func aBadAmanpayResponseSignatureIsAProviderErrorNotAConfigurationError() async throws {
        try await withSandbox { sandbox in
            try await withAmanpay(sandbox) { client in
                sandbox.addFault(SandboxFault(provider: "amanpay", operation: "purchase", times: 1, badSignature: true))
                let e = await #expect(throws: ProviderError.self) { try await client.purchase(purchase("bs-1")) }
                #expect(e?.code.rawValue == "INVALID_RESPONSE_SIGNATURE")
                #expect(e?.errorClass == .providerError)
                #expect(e?.mayHaveReachedProvider == true)
                #expect(client.breaker.currentState == .closed, "one bad answer does not stop the provider")
            }
        }
    }

    @Test func aBadFirstPayResponseSignatureIsAProviderErrorNotAConfigurationError() async throws {
        try await withSandbox { sandbox in
            try await withFirstPay(sandbox) { client in
                _ = try await client.payIn(payment("bs-2"))
                sandbox.addFault(SandboxFault(provider: "firstpay", operation: "status", badSignature: true))
                let e = await #expect(throws: ProviderError.self) { try await client.status(merchantPaymentId: "bs-2") }
                #expect(e?.code.rawValue == "INVALID_RESPONSE_SIGNATURE")
                #expect(e?.errorClass == .providerError)
            }
        }
    }
}
