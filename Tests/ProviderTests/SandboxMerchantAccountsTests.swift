import Amanpay
import FirstPay
import Foundation
import PaymentVocabulary
import ProviderCore
import ProviderSandbox
import Testing

/// The sandbox serves several merchant accounts per provider: each merchant's requests
/// are checked with its own key, its answers and callbacks are signed with it, and it sees only its own payments.
@Suite("Sandbox with several merchant accounts")
struct SandboxMerchantAccountsTests {
    /// The second FirstPay account's TEST KEYS (`Tests/Fixtures/firstpay-second-account`).
    static func secondAccountKey(_ name: String) throws -> String {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/firstpay-second-account").path
        return try String(contentsOfFile: folder + "/" + name, encoding: .utf8)
    }

    static func amanpay(_ sandbox: ProviderSandbox, merchantId: Int, secret: Secret) -> AmanpayClient {
        AmanpayClient(configuration: AmanpayConfiguration(
            baseURL: sandbox.baseURL, merchantId: merchantId, secretKey: secret,
            timeouts: .init(connect: .seconds(1), request: .seconds(5)), retryPolicy: fastRetry,
            circuitBreaker: .init(failureThreshold: 50)), logger: quietLogger)
    }

    @Test func amanpayMerchantsUseTheirOwnSecretsAndSeeOnlyTheirOwnPayments() async throws {
        try await withSandbox({ $0.amanpayMerchants = [2_000_001: "bd-secret"] }) { sandbox in
            let bd = Self.amanpay(sandbox, merchantId: 2_000_001, secret: "bd-secret")
            let wrong = Self.amanpay(sandbox, merchantId: 2_000_001, secret: "s3cr3t")
            let stranger = Self.amanpay(sandbox, merchantId: 2_000_009, secret: "bd-secret")
            do {
                try await Self.amanpayChecks(sandbox, bd: bd, wrong: wrong, stranger: stranger)
            } catch {
                for client in [bd, wrong, stranger] { try? await client.shutdown() }
                throw error
            }
            for client in [bd, wrong, stranger] { try await client.shutdown() }
        }
    }

    static func amanpayChecks(
        _ sandbox: ProviderSandbox, bd: AmanpayClient, wrong: AmanpayClient, stranger: AmanpayClient
    ) async throws {
        let request = AmanpayPurchaseRequest(
            paymentId: "acct-p1", amount: DecimalAmount("10.00")!, currency: "BDT", customerEmail: "c@example.com")
        let created = try await bd.purchase(request)  // its response verified with bd's secret (A2)
        #expect(created.merchantPaymentId == "acct-p1")
        #expect(try await bd.status(paymentId: "acct-p1", type: .purchase).providerPaymentId
                    == created.providerPaymentId)
        let refused = await #expect(throws: ProviderError.self) { try await wrong.purchase(request) }
        #expect(refused?.errorClass == .configuration)
        let unknown = await #expect(throws: ProviderError.self) { try await stranger.purchase(request) }
        #expect(unknown?.errorClass == .configuration)
        try await withAmanpay(sandbox) { defaultMerchant in
            let hidden = await #expect(throws: ProviderError.self) {
                try await defaultMerchant.status(paymentId: "acct-p1", type: .purchase)
            }
            #expect(hidden?.code.rawValue == "TRANSACTION_NOT_FOUND", "another merchant's payment is not visible")
        }
    }

    @Test func firstPayMerchantsAreToldApartByTheirPublicKeyAndSignTheirOwnPostbacks() async throws {
        let second = SandboxFirstPayMerchant(
            publicKeyPEM: try Self.secondAccountKey("firstpay_public.pem"),
            privateKeyPEM: Secret(try Self.secondAccountKey("firstpay_private.pem")),
            merchantPublicKeyPEM: try Self.secondAccountKey("merchant_public.pem"))
        try await withSandbox({ $0.firstpayMerchants = [second]; $0.callbackMaxAttempts = 1 }) { sandbox in
            let configuration = FirstPayConfiguration(
                baseURL: sandbox.baseURL, publicKeyPEM: second.publicKeyPEM,
                merchantPrivateKeyPEM: Secret(try Self.secondAccountKey("merchant_private.pem")),
                timeouts: .init(connect: .seconds(1), request: .seconds(5)), retryPolicy: fastRetry,
                circuitBreaker: .init(failureThreshold: 50))
            let client = try FirstPayClient(configuration: configuration, logger: quietLogger)
            var mixed = configuration
            mixed.publicKeyPEM = sandbox.configuration.firstpayPublicKeyPEM
            let impostor = try FirstPayClient(configuration: mixed, logger: quietLogger)
            do {
                try await Self.firstpayChecks(sandbox, client: client, impostor: impostor)
            } catch {
                for c in [client, impostor] { try? await c.shutdown() }
                throw error
            }
            for c in [client, impostor] { try await c.shutdown() }
        }
    }

    static func firstpayChecks(_ sandbox: ProviderSandbox, client: FirstPayClient, impostor: FirstPayClient)
        async throws
    {
        let created = try await client.payIn(payment("acct-fp1", postBackUrl: "http://127.0.0.1:9/postback"))
        #expect(created.merchantPaymentId == "acct-fp1")
        #expect(try await client.status(merchantPaymentId: "acct-fp1").providerPaymentId == created.providerPaymentId)
        try await withFirstPay(sandbox) { defaultMerchant in
            let hidden = await #expect(throws: ProviderError.self) {
                try await defaultMerchant.status(merchantPaymentId: "acct-fp1")
            }
            #expect(hidden?.code.rawValue == "NOT_FOUND", "another merchant's payment is not visible")
            // The postback of the second merchant's payment is signed with its key, not the default one.
            #expect(sandbox.completeFirstPay(merchantPaymentId: "acct-fp1", status: "SUCCESS"))
            let postback = try #require(sandbox.callbackDeliveries().last { $0.provider == "firstpay" })
            #expect(try client.verifyPostback(body: Array(postback.body.utf8)).status == .succeeded)
            #expect(throws: ProviderError.self) { try defaultMerchant.verifyPostback(body: Array(postback.body.utf8)) }
        }
        // A request signed with the second merchant's key but claiming the default merchant's public key fails.
        let refused = await #expect(throws: ProviderError.self) { try await impostor.payIn(payment("acct-fp2")) }
        #expect(refused?.errorClass == .configuration)
    }
}
