import AMQP
import Foundation
@testable import PayBridge
import PayBridgeContract
import Testing
import PayBridgeTopology

/// `PAYBRIDGE_HISTORY_MAX_AGE` / `PAYBRIDGE_HISTORY_MAX_BYTES`: the retention of the event history stream.
@Suite struct HistoryRetentionSettingsTests {
    static let provider = ["AMANPAY_BASE_URL": "http://127.0.0.1:1", "AMANPAY_MERCHANT_ID": "1",
                           "AMANPAY_SECRET_KEY": "s"]

    @Test func unsetMeansSevenDaysAndNoSizeLimit() throws {
        let retention = try EnvironmentSettings([:]).historyRetention()
        #expect(retention == .default)
        #expect(retention.maxAge == "7D" && retention.maxBytes == nil)
        #expect(retention.maxAgeSeconds == 7 * 86_400)
        #expect(retention.arguments == ["x-max-age": .string("7D")], "no x-max-length-bytes when unset")
        #expect(try PayBridgeConfiguration.fromEnvironment(Self.provider).historyRetention == .default)
        // Empty counts as unset, as for every other setting.
        #expect(try EnvironmentSettings(["PAYBRIDGE_HISTORY_MAX_AGE": " ", "PAYBRIDGE_HISTORY_MAX_BYTES": ""])
            .historyRetention() == .default)
    }

    @Test(arguments: [("7D", "7D", 604_800), ("12h", "12h", 43_200), ("1Y", "1Y", 31_536_000),
                      ("1M", "1M", 2_592_000), ("90m", "90m", 5_400), ("3600s", "3600s", 3_600),
                      ("007D", "7D", 604_800), (" 14D ", "14D", 1_209_600)])
    func validAgesInRabbitMQsSyntax(text: String, declared: String, seconds: Int64) throws {
        let retention = try EnvironmentSettings(["PAYBRIDGE_HISTORY_MAX_AGE": text]).historyRetention()
        #expect(retention.maxAge == declared)
        #expect(retention.maxAgeSeconds == seconds)
        #expect(retention.arguments["x-max-age"] == .string(declared))
    }

    @Test(arguments: ["7d", "7", "D", "0D", "-1D", "1.5D", "7 D", "7DD", "1w", "7days", "1234567890D", "7Ｄ"])
    func invalidAgesAreAConfigurationErrorNamingTheVariable(text: String) {
        do {
            _ = try EnvironmentSettings(["PAYBRIDGE_HISTORY_MAX_AGE": text]).historyRetention()
            Issue.record("\"\(text)\" was accepted")
        } catch {
            #expect(error.setting == "PAYBRIDGE_HISTORY_MAX_AGE")
            #expect(error.problem.contains("Y, M, D, h, m or s"), "says what is accepted: \(error.problem)")
        }
        #expect(throws: ConfigurationError.self) {
            try PayBridgeConfiguration.fromEnvironment(Self.provider.merging(["PAYBRIDGE_HISTORY_MAX_AGE": text]) { $1 })
        }
    }

    @Test func aByteLimitIsAddedWhenSet() throws {
        let retention = try EnvironmentSettings(["PAYBRIDGE_HISTORY_MAX_AGE": "30D",
                                                 "PAYBRIDGE_HISTORY_MAX_BYTES": "20000000000"]).historyRetention()
        #expect(retention.maxAge == "30D" && retention.maxBytes == 20_000_000_000)
        #expect(retention.arguments == ["x-max-age": .string("30D"),
                                        "x-max-length-bytes": .int64(20_000_000_000)])
        let configuration = try PayBridgeConfiguration.fromEnvironment(
            Self.provider.merging(["PAYBRIDGE_HISTORY_MAX_BYTES": "5000000"]) { $1 })
        #expect(configuration.historyRetention.maxBytes == 5_000_000)
        #expect(configuration.historyRetention.maxAge == "7D")
        let stream = try #require(BrokerSetup.declarations(historyRetention: retention).queues
            .first { $0.name == Topology.historyStream })
        #expect(stream.declareArguments == ["x-queue-type": .string("stream"), "x-max-age": .string("30D"),
                                            "x-max-length-bytes": .int64(20_000_000_000)])
    }

    @Test(arguments: ["0", "-5", "10GB", "1e9", "12.5", "99999999999999999999", "ten"])
    func invalidByteLimitsAreAConfigurationErrorNamingTheVariable(text: String) {
        do {
            _ = try EnvironmentSettings(["PAYBRIDGE_HISTORY_MAX_BYTES": text]).historyRetention()
            Issue.record("\"\(text)\" was accepted")
        } catch {
            #expect(error.setting == "PAYBRIDGE_HISTORY_MAX_BYTES")
            #expect(error.problem.contains("positive whole number of bytes"))
        }
    }

    @Test func thePolicyCommandCarriesTheNewRetention() throws {
        #expect(BrokerSetup.historyPolicyCommand(.default)
            == #"rabbitmqctl set_policy --apply-to queues paybridge-history '^payments\.history$' '{"max-age":"7D"}'"#)
        let both = try HistoryRetention(maxAge: "14D", maxBytes: 1000)
        #expect(BrokerSetup.historyPolicyCommand(both).hasSuffix(#"'{"max-age":"14D","max-length-bytes":1000}'"#))
    }
}
