import Foundation
@testable import PayBridge
import Testing

/// The one environment reader: the broker URL from the variable or its `_FILE`, for the worker as for the tools.
@Suite struct EnvironmentSettingsTests {
    @Test func theWorkerReadsTheBrokerURLFromTheFileNamedByTheFileVariable() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("amqp-url-\(UUID().uuidString)").path
        try "amqp://svc:pw@127.0.0.1:5673/orders\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let configuration = try PayBridgeConfiguration.fromEnvironment([
            "PAYBRIDGE_AMQP_URL_FILE": path,
            "AMANPAY_BASE_URL": "http://127.0.0.1:1", "AMANPAY_MERCHANT_ID": "1", "AMANPAY_SECRET_KEY": "s",
        ])
        #expect(configuration.amqp.endpoint == "127.0.0.1:5673")
        #expect(configuration.amqp.virtualHost == "orders")
        #expect(try EnvironmentSettings(["PAYBRIDGE_AMQP_URL_FILE": path]).amqpURL().source
                    == "PAYBRIDGE_AMQP_URL_FILE (\(path))")
    }

    @Test func bothVariablesAtOnceAreAnErrorAndNeitherIsTheDefault() throws {
        #expect(throws: ConfigurationError.self) {
            try EnvironmentSettings(["PAYBRIDGE_AMQP_URL": "amqp://localhost",
                                     "PAYBRIDGE_AMQP_URL_FILE": "/nonexistent"]).amqpURL()
        }
        #expect(try EnvironmentSettings([:]).amqpURL().url == EnvironmentSettings.defaultAMQPURL)
    }

    @Test func anUnreadableFileOrABadURLNamesTheSettingAndNotThePassword() {
        do {
            _ = try EnvironmentSettings(["PAYBRIDGE_AMQP_URL_FILE": "/nonexistent/url"]).amqpURL()
            Issue.record("an unreadable file was accepted")
        } catch {
            #expect(error.setting == "PAYBRIDGE_AMQP_URL_FILE")
        }
        do {
            _ = try EnvironmentSettings(["PAYBRIDGE_AMQP_URL": "http://user:s3cret@host"]).amqpConfiguration()
            Issue.record("an http URL was accepted")
        } catch {
            #expect(error.setting == "PAYBRIDGE_AMQP_URL")
            #expect(!error.description.contains("s3cret"))
        }
    }

    @Test func eventPIIIsMaskedByDefaultFullOnRequestAndAnythingElseIsAnError() throws {
        let base = ["AMANPAY_BASE_URL": "http://127.0.0.1:1", "AMANPAY_MERCHANT_ID": "1", "AMANPAY_SECRET_KEY": "s"]
        #expect(try PayBridgeConfiguration.fromEnvironment(base).eventPII == .masked)
        #expect(try PayBridgeConfiguration.fromEnvironment(base.merging(["PAYBRIDGE_EVENT_PII": "full"]) { $1 })
            .eventPII == .full)
        #expect(throws: ConfigurationError.self) {
            try PayBridgeConfiguration.fromEnvironment(base.merging(["PAYBRIDGE_EVENT_PII": "none"]) { $1 })
        }
    }

    @Test func theA2FieldListAndTheF3PathsAreSettingsOfTheService() throws {
        let keys = "Tests/Fixtures/provider-testdata"
        var env = ["AMANPAY_BASE_URL": "http://127.0.0.1:1", "AMANPAY_MERCHANT_ID": "1", "AMANPAY_SECRET_KEY": "s",
                   "AMANPAY_RESPONSE_SIGNATURE_FIELDS": "transactionId, paymentID,status"]
        #expect(try PayBridgeConfiguration.fromEnvironment(env).amanpay?.responseSignatureFields
            == ["transactionId", "paymentID", "status"])
        env["AMANPAY_RESPONSE_SIGNATURE_FIELDS"] = "transactionId,,status"
        #expect(throws: ConfigurationError.self) { try PayBridgeConfiguration.fromEnvironment(env) }
        env["AMANPAY_RESPONSE_SIGNATURE_FIELDS"] = nil
        #expect(try PayBridgeConfiguration.fromEnvironment(env).amanpay?.responseSignatureFields
            == ["transactionId", "paymentID", "status", "amount", "currency"], "A2's default")

        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(keys).path
        env["FIRSTPAY_BASE_URL"] = "http://127.0.0.1:2"
        env["FIRSTPAY_PUBLIC_KEY_FILE"] = root + "/firstpay_public.pem"
        env["FIRSTPAY_MERCHANT_PRIVATE_KEY_FILE"] = root + "/merchant_private.pem"
        env["FIRSTPAY_STATUS_PATH"] = "/api/payments/v2/status"
        let paths = try #require(try PayBridgeConfiguration.fromEnvironment(env).firstpay?.paths)
        #expect(paths.status == "/api/payments/v2/status" && paths.sms == "/api/payments/v1/sms")
        env["FIRSTPAY_SMS_PATH"] = "api/sms?x=1"
        #expect(throws: ConfigurationError.self) { try PayBridgeConfiguration.fromEnvironment(env) }
    }
}
