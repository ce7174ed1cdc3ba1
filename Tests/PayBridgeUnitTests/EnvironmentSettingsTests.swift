import AMQP
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

    @Test func theProviderHTTPTransportIsNIOByDefaultAsyncHTTPClientOnRequestAndAnythingElseIsAnError() throws {
        let base = ["AMANPAY_BASE_URL": "http://127.0.0.1:1", "AMANPAY_MERCHANT_ID": "1", "AMANPAY_SECRET_KEY": "s"]
        #expect(try PayBridgeConfiguration.fromEnvironment(base).httpTransport == .nio)
        for (value, kind) in [("nio", ProviderHTTPTransportKind.nio), ("asynchttpclient", .asyncHTTPClient)] {
            #expect(try PayBridgeConfiguration.fromEnvironment(base.merging(["PAYBRIDGE_HTTP_TRANSPORT": value]) { $1 })
                .httpTransport == kind)
        }
        for value in ["NIO", "async-http-client", "ahc"] {
            do {
                _ = try PayBridgeConfiguration.fromEnvironment(
                    base.merging(["PAYBRIDGE_HTTP_TRANSPORT": value]) { $1 })
                Issue.record("PAYBRIDGE_HTTP_TRANSPORT=\(value) was accepted")
            } catch {
                #expect(error.setting == "PAYBRIDGE_HTTP_TRANSPORT")
                #expect(error.description == "configuration: PAYBRIDGE_HTTP_TRANSPORT: must be nio or asynchttpclient")
            }
        }
    }

    @Test func cpuSchedulingIsBatchForAWorkerAndLeftAsStartedWhereCallbacksAreServedUnlessSet() throws {
        let base = ["AMANPAY_BASE_URL": "http://127.0.0.1:1", "AMANPAY_MERCHANT_ID": "1", "AMANPAY_SECRET_KEY": "s"]
        #expect(try PayBridgeConfiguration.fromEnvironment(base).cpuScheduling == nil, "unset: the role decides")
        #expect(CPUScheduling.default(for: .worker) == .batch)
        #expect(CPUScheduling.default(for: .callbacks) == nil, "left as the process started")
        #expect(CPUScheduling.default(for: .all) == nil, "left as the process started")
        for scheduling in CPUScheduling.allCases {
            #expect(try PayBridgeConfiguration.fromEnvironment(
                base.merging(["PAYBRIDGE_CPU_SCHEDULING": scheduling.rawValue]) { $1 }).cpuScheduling == scheduling)
        }
        for value in ["BATCH", "idle", "fifo", "0"] {
            do {
                _ = try PayBridgeConfiguration.fromEnvironment(base.merging(["PAYBRIDGE_CPU_SCHEDULING": value]) { $1 })
                Issue.record("PAYBRIDGE_CPU_SCHEDULING=\(value) was accepted")
            } catch {
                #expect(error.description == "configuration: PAYBRIDGE_CPU_SCHEDULING: must be batch or normal")
            }
        }
    }

    @Test func httpEventLoopsAreHalfTheCoresForAWorkerAndNIOsOwnWhereCallbacksAreServedUnlessSet() throws {
        let base = ["AMANPAY_BASE_URL": "http://127.0.0.1:1", "AMANPAY_MERCHANT_ID": "1", "AMANPAY_SECRET_KEY": "s"]
        #expect(try PayBridgeConfiguration.fromEnvironment(base).httpEventLoops == nil, "unset: the role decides")
        #expect([1, 2, 3, 4, 8, 64].map { HTTPEventLoops.default(for: .worker, cores: $0) } == [1, 1, 1, 2, 4, 32])
        #expect(HTTPEventLoops.default(for: .callbacks, cores: 8) == nil, "NIO's own default")
        #expect(HTTPEventLoops.default(for: .all, cores: 8) == nil, "NIO's own default")
        for loops in [1, 3, 256] {
            #expect(try PayBridgeConfiguration.fromEnvironment(
                base.merging(["PAYBRIDGE_HTTP_EVENT_LOOPS": "\(loops)"]) { $1 }).httpEventLoops == loops)
        }
        for value in ["0", "257", "-1", "two", "1.5"] {
            do {
                _ = try PayBridgeConfiguration.fromEnvironment(base.merging(["PAYBRIDGE_HTTP_EVENT_LOOPS": value]) { $1 })
                Issue.record("PAYBRIDGE_HTTP_EVENT_LOOPS=\(value) was accepted")
            } catch {
                #expect(error.description.hasPrefix(
                    "configuration: PAYBRIDGE_HTTP_EVENT_LOOPS: must be a whole number in 1...256"), "\(error)")
            }
        }
    }

    @Test func callbackDedupAndDefaultExchangeTrustAreSettingsWithSafeDefaults() throws {
        let base = ["AMANPAY_BASE_URL": "http://127.0.0.1:1", "AMANPAY_MERCHANT_ID": "1", "AMANPAY_SECRET_KEY": "s"]
        let defaults = try PayBridgeConfiguration.fromEnvironment(base)
        #expect(defaults.callbackDedupWindow == .seconds(30))
        #expect(!defaults.trustDefaultExchange, "PayBridge's headers count only on its own route unless asked")
        let set = try PayBridgeConfiguration.fromEnvironment(base.merging([
            "PAYBRIDGE_CALLBACK_DEDUP_SECONDS": "0", "PAYBRIDGE_TRUST_DEFAULT_EXCHANGE": "true",
        ]) { $1 })
        #expect(set.callbackDedupWindow == .zero && set.trustDefaultExchange)
        for (name, value) in [("PAYBRIDGE_TRUST_DEFAULT_EXCHANGE", "yes"), ("PAYBRIDGE_CALLBACK_DEDUP_SECONDS", "-1"),
                              ("PAYBRIDGE_CALLBACK_DEDUP_SECONDS", "3601")] {
            #expect(throws: ConfigurationError.self, "\(name)=\(value)") {
                try PayBridgeConfiguration.fromEnvironment(base.merging([name: value]) { $1 })
            }
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

    // MARK: an invalid URL setting is never echoed with its credentials

    static let malformedURLsWithCredentials = [
        "https://user:s3cret@exa mple.com/api",  // a space: not a URL
        "ftp://user:s3cret@example.com",  // not http(s)
        "user:s3cret@example.com",  // no scheme://
        "https://user:s3cr/et@host name",  // the password holds a / and the host a space
        "https://us er:s3cret@exa@mple.com:port",
    ]

    @Test(arguments: ["AMANPAY_BASE_URL", "FIRSTPAY_BASE_URL", "AMANPAY_BD_BASE_URL", "PAYBRIDGE_AMQP_URL"])
    func anInvalidURLSettingNamesTheSettingAndNeverShowsItsPassword(_ setting: String) {
        for url in Self.malformedURLsWithCredentials {
            var env = ["AMANPAY_BASE_URL": "http://127.0.0.1:1", "AMANPAY_MERCHANT_ID": "1", "AMANPAY_SECRET_KEY": "s"]
            if setting == "AMANPAY_BD_BASE_URL" {
                env.merge(["AMANPAY_ACCOUNTS": "bd", "AMANPAY_BD_MERCHANT_ID": "2", "AMANPAY_BD_SECRET_KEY": "t"]) { $1 }
            }
            env[setting] = url
            do {
                _ = try PayBridgeConfiguration.fromEnvironment(env)
                Issue.record("\(setting)=\(url) was accepted")
            } catch {
                #expect(error.setting.hasPrefix(setting), "\(error)")
                for secret in ["s3cret", "s3cr/et", "us er"] {
                    #expect(!error.description.contains(secret), "\(setting): \(error)")
                }
            }
        }
    }

    @Test func aRedactedURLKeepsWhatTellsTheMistakeAndHidesTheUserInformation() {
        #expect(EnvironmentSettings.redactedURLText("ftp://user:s3cret@example.com/x") == "ftp://***@example.com/x")
        #expect(EnvironmentSettings.redactedURLText("https://exa mple.com/a") == "https://exa mple.com/a")
        #expect(EnvironmentSettings.redactedURLText("user:pw@host") == "***@host")
    }

    // MARK: TLS files for amqps://

    /// A directory of small files for one test, removed after it.
    static func files(_ contents: [String: String], _ body: ([String: String]) throws -> Void) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tls-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var paths: [String: String] = [:]
        for (name, content) in contents {
            paths[name] = directory + "/" + name
            try content.write(toFile: paths[name]!, atomically: true, encoding: .utf8)
        }
        try body(paths)
    }

    static let certificatePEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
    static let keyPEM = "-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWtleS1ieXRlcw==\n-----END PRIVATE KEY-----\n"

    @Test func theTLSVariablesReachEveryAmqpsNodeAndNoPlainOne() throws {
        try Self.files(["ca.pem": Self.certificatePEM, "client.pem": Self.certificatePEM, "client.key": Self.keyPEM]) {
            paths in
            let configuration = try EnvironmentSettings([
                "PAYBRIDGE_AMQP_URL": "amqps://u:p@a:5671/vh,amqp://u:p@b:5672/vh,amqps://u:p@c:5671/vh",
                "PAYBRIDGE_AMQP_CA_FILE": paths["ca.pem"]!, "PAYBRIDGE_AMQP_CERT_FILE": paths["client.pem"]!,
                "PAYBRIDGE_AMQP_KEY_FILE": paths["client.key"]!,
            ]).amqpConfiguration().configuration
            let tls = AMQPConfiguration.TLS(caCertificatePath: paths["ca.pem"]!,
                                            clientCertificatePath: paths["client.pem"]!,
                                            clientKeyPath: paths["client.key"]!)
            #expect(configuration.nodes.map(\.tls) == [tls, nil, tls])
        }
    }

    @Test func withoutACAFileAmqpsVerifiesWithTheSystemCABundleWhenThereIsOne() throws {
        let configuration = try EnvironmentSettings(["PAYBRIDGE_AMQP_URL": "amqps://u:p@a/vh"]).amqpConfiguration()
            .configuration
        let system = FileManager.default.isReadableFile(atPath: EnvironmentSettings.systemCAFile)
        #expect(configuration.tls?.caCertificatePath == (system ? EnvironmentSettings.systemCAFile : nil))
        #expect(configuration.tls?.verifyPeer == true)
    }

    @Test func aMissingUnreadableOrWrongTLSFileIsAConfigurationErrorNamingItsVariableAndNeverTheKey() throws {
        try Self.files(["ca.pem": Self.certificatePEM, "client.pem": Self.certificatePEM, "client.key": Self.keyPEM,
                        "notes.txt": "not a certificate"]) { paths in
            let url = ["PAYBRIDGE_AMQP_URL": "amqps://u:p@a/vh"]
            let cases: [(env: [String: String], setting: String)] = [
                (["PAYBRIDGE_AMQP_CA_FILE": "/nonexistent/ca.pem"], "PAYBRIDGE_AMQP_CA_FILE"),
                (["PAYBRIDGE_AMQP_CA_FILE": paths["notes.txt"]!], "PAYBRIDGE_AMQP_CA_FILE"),
                (["PAYBRIDGE_AMQP_CA_FILE": paths["client.key"]!], "PAYBRIDGE_AMQP_CA_FILE"),
                (["PAYBRIDGE_AMQP_CERT_FILE": paths["client.pem"]!], "PAYBRIDGE_AMQP_KEY_FILE"),
                (["PAYBRIDGE_AMQP_KEY_FILE": paths["client.key"]!], "PAYBRIDGE_AMQP_CERT_FILE"),
                (["PAYBRIDGE_AMQP_CERT_FILE": paths["client.pem"]!, "PAYBRIDGE_AMQP_KEY_FILE": "/nonexistent/k"],
                 "PAYBRIDGE_AMQP_KEY_FILE"),
                (["PAYBRIDGE_AMQP_CERT_FILE": paths["client.key"]!, "PAYBRIDGE_AMQP_KEY_FILE": paths["client.key"]!],
                 "PAYBRIDGE_AMQP_CERT_FILE"),
                (["PAYBRIDGE_AMQP_CERT_FILE": paths["client.pem"]!, "PAYBRIDGE_AMQP_KEY_FILE": paths["ca.pem"]!],
                 "PAYBRIDGE_AMQP_KEY_FILE"),
            ]
            for (env, setting) in cases {
                let all = url.merging(env) { $1 }
                let error = #expect(throws: ConfigurationError.self, "\(env)") {
                    try EnvironmentSettings(all).amqpConfiguration()
                }
                #expect(error?.setting == setting, "\(env): \(error.map { "\($0)" } ?? "-")")
                #expect(error.map { "\($0)".contains("c2VjcmV0") } == false)
                // The runtime's own reading stops at the same error.
                #expect(throws: ConfigurationError.self) {
                    try PayBridgeConfiguration.fromEnvironment(all.merging([
                        "AMANPAY_BASE_URL": "http://127.0.0.1:1", "AMANPAY_MERCHANT_ID": "1", "AMANPAY_SECRET_KEY": "s",
                    ]) { $1 })
                }
            }
        }
    }
}
