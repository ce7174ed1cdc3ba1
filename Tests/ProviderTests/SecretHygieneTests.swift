import Amanpay
import FirstPay
import Logging
import PaymentVocabulary
import ProviderCore
import ProviderSandbox
import Synchronization
import Testing

/// Captures every log record (message and metadata) as text.
struct CapturingLogHandler: LogHandler {
    let box: LogBox
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let all = metadata.merging(event.metadata ?? [:]) { $1 }
        box.records.withLock { $0.append("\(event.message) \(all)") }
    }
}

final class LogBox: Sendable {
    let records = Mutex<[String]>([])
    var text: String { records.withLock { $0.joined(separator: "\n") } }
    var logger: Logger {
        Logger(label: "capture") { _ in CapturingLogHandler(box: self) }
    }
}

@Suite("Secrets and customer data stay out of logs and errors")
struct SecretHygieneTests {
    @Test func configurationsNeverPrintTheirSecrets() throws {
        let a = AmanpayConfiguration(merchantId: 1, secretKey: "s3cr3t")
        #expect(!"\(a)".contains("s3cr3t"))
        #expect(!String(reflecting: a).contains("s3cr3t"))
        let pem = try testdata("merchant_private.pem")
        let f = FirstPayConfiguration(baseURL: "http://x", publicKeyPEM: "pub", merchantPrivateKeyPEM: Secret(pem))
        #expect(!"\(f)".contains("PRIVATE KEY"))
        #expect(!String(reflecting: f).contains("PRIVATE KEY"))
    }

    @Test func traceLogsMaskWalletNumbersAndNeverShowTheSecret() async throws {
        let box = LogBox()
        try await withSandbox { sandbox in
            let client = AmanpayClient(
                configuration: AmanpayConfiguration(
                    baseURL: sandbox.baseURL, merchantId: 1_758_378, secretKey: "s3cr3t", retryPolicy: fastRetry),
                clock: TestClock(), logger: box.logger)
            do {
                _ = try await client.purchase(purchase("log-1", method: .bkash, wallet: "01712345678"))
                sandbox.addFault(SandboxFault(provider: "amanpay", operation: "status", badSignature: true))
                _ = try? await client.purchaseStatus(paymentId: "log-1")
                try await client.shutdown()
            } catch {
                try? await client.shutdown()
                throw error
            }
            let fp = try FirstPayClient(
                configuration: try firstpayConfiguration(baseURL: sandbox.baseURL), clock: TestClock(), logger: box.logger)
            do {
                _ = try await fp.payIn(payment("log-2"))
                try await fp.shutdown()
            } catch {
                try? await fp.shutdown()
                throw error
            }
        }
        let text = box.text
        #expect(text.contains("*******5678"))
        #expect(!text.contains("01712345678"))
        #expect(!text.contains("s3cr3t"))
        #expect(!text.contains("PRIVATE KEY"))
    }
}

@Suite("More error classes")
struct ErrorClassTests {
    @Test func amountsThatCannotBeSignedExactlyAreInvalidRequests() async throws {
        try await withSandbox { sandbox in
            try await withAmanpay(sandbox) { client in
                for bad in ["1.005", "0", "-5.00"] {
                    let e = await #expect(throws: ProviderError.self) { try await client.purchase(purchase("bad", bad)) }
                    #expect(e?.errorClass == .invalidCommand)
                }
                #expect(sandbox.receivedRequests().isEmpty)
            }
        }
    }

    @Test(arguments: ["GENERAL_ERROR", "CUSTOMER_BANK_UNREACHABLE"])
    func transientAmanpayCodesOnStatusAreRetried(code: String) async throws {
        try await withSandbox { sandbox in
            let clock = TestClock()
            try await withAmanpay(sandbox, clock: clock) { client in
                _ = try await client.purchase(purchase("tr-1"))
                sandbox.addFault(SandboxFault(provider: "amanpay", operation: "status", times: 2, errorCode: code))
                let r = try await client.purchaseStatus(paymentId: "tr-1")
                #expect(r.providerStatus == "REDIRECT")
                #expect(clock.sleeps.count == 2)
            }
        }
    }

    @Test func latencyIsInjectedAndASlowAnswerStillSucceeds() async throws {
        try await withSandbox { sandbox in
            sandbox.addFault(SandboxFault(provider: "amanpay", operation: "balance", times: 1, latencyMs: 100))
            try await withAmanpay(sandbox) { client in
                let start = ContinuousClock.now
                _ = try await client.balance()
                #expect(ContinuousClock.now - start >= .milliseconds(100))
            }
        }
    }

    @Test func wrongOTPFailsThePayment() async throws {
        try await withSandbox { sandbox in
            sandbox.addFault(SandboxFault(provider: "amanpay", paymentId: "otp-x", initialStatus: "SPECIFICATION"))
            try await withAmanpay(sandbox) { client in
                let r = try await client.purchase(purchase("otp-x"))
                let specified = try await client.specify(
                    transactionId: r.providerPaymentId!, operationId: r.operationId!, additionalFields: ["Otp": "000000"])
                #expect(specified.status == .failed)
                #expect(specified.error?.errorClass == .declined)
                let e = await #expect(throws: ProviderError.self) {
                    try await client.specify(
                        transactionId: r.providerPaymentId!, operationId: r.operationId!, additionalFields: ["Otp": "123456"])
                }
                #expect(e?.errorClass == .notFound)
            }
        }
    }
}
