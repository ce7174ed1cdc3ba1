import AMQP
import Foundation
@testable import PayBridge
import Testing

/// `PAYBRIDGE_AMQP_URL` (or its `_FILE`) listing a cluster's nodes, read once for the worker and the tools, and
/// `/readyz` naming the node each connection is on.
@Suite struct BrokerNodeListSettingsTests {
    static let providers = ["AMANPAY_BASE_URL": "http://127.0.0.1:1", "AMANPAY_MERCHANT_ID": "1",
                            "AMANPAY_SECRET_KEY": "s"]

    @Test func theVariableAndItsFileTakeACommaSeparatedNodeList() throws {
        let list = "amqp://svc:pw@rabbit-0:5672/payments,amqp://svc:pw@rabbit-1:5672/payments"
        let fromVariable = try PayBridgeConfiguration.fromEnvironment(
            Self.providers.merging(["PAYBRIDGE_AMQP_URL": list]) { $1 })
        #expect(fromVariable.amqp.nodes.map(\.endpoint) == ["rabbit-0:5672", "rabbit-1:5672"])
        #expect(fromVariable.amqp.virtualHost == "payments")
        #expect(fromVariable.amqp.nodeOrder == .shuffled)

        // A file may put one URL a line; the trailing newline is trimmed.
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("amqp-nodes-\(UUID().uuidString)").path
        try "amqps://svc:pw@rabbit-0/payments,\namqps://svc:pw@rabbit-1/payments,\namqps://svc:pw@rabbit-2/payments\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (fromFile, source) = try EnvironmentSettings(["PAYBRIDGE_AMQP_URL_FILE": path]).amqpConfiguration()
        #expect(fromFile.nodes.map(\.endpoint) == ["rabbit-0:5671", "rabbit-1:5671", "rabbit-2:5671"])
        #expect(fromFile.nodes.allSatisfy { $0.tls != nil })
        #expect(source == "PAYBRIDGE_AMQP_URL_FILE (\(path))")
    }

    @Test func aListWithTwoVhostsIsAConfigurationErrorNamingTheSettingAndNoPassword() {
        do {
            _ = try PayBridgeConfiguration.fromEnvironment(Self.providers.merging([
                "PAYBRIDGE_AMQP_URL": "amqp://svc:s3cret-a@rabbit-0/payments,amqp://svc:s3cret-b@rabbit-1/%2F",
            ]) { $1 })
            Issue.record("two vhosts were accepted")
        } catch {
            #expect(error.setting == "PAYBRIDGE_AMQP_URL")
            #expect(error.problem.contains("same vhost"))
            #expect(error.problem.contains("rabbit-1:5672"))
            #expect(!error.description.contains("s3cret"))
        }
    }

    @Test func aListTooLongOrWithTooManyNodesIsAConfigurationError() {
        let seventeen = (0...16).map { "amqp://svc:pw@rabbit-\($0)/payments" }.joined(separator: ",")
        #expect(throws: ConfigurationError.self) {
            try EnvironmentSettings(["PAYBRIDGE_AMQP_URL": seventeen]).amqpConfiguration()
        }
        let huge = "amqp://svc:" + String(repeating: "p", count: 9000) + "@rabbit-0/payments,amqp://rabbit-1/payments"
        do {
            _ = try EnvironmentSettings(["PAYBRIDGE_AMQP_URL": huge]).amqpConfiguration()
            Issue.record("a 9 KB setting was accepted")
        } catch {
            #expect(error.setting == "PAYBRIDGE_AMQP_URL")
            #expect(error.problem.contains("8192 bytes") && !error.problem.contains("ppp"))
        }
    }

    @Test func readyzNamesTheNodeOfEachConnectionOnlyWhenNodesAreReported() {
        let readiness = Readiness()
        #expect(readiness.report().text == "ready\n", "one node: the body as before")
        readiness.setNode("publish", node: "rabbit-0:5672")
        readiness.setNode("consume", node: "rabbit-2:5672")
        #expect(readiness.report().ready)
        #expect(readiness.report().text == """
            ready
            broker (consume connection): on rabbit-2:5672
            broker (publish connection): on rabbit-0:5672

            """)
        readiness.setConnection("consume", connected: false)
        #expect(!readiness.report().ready)
        #expect(readiness.report().text == """
            broker (consume connection): disconnected (last on rabbit-2:5672)
            broker (publish connection): on rabbit-0:5672

            """)
        #expect(readiness.check().reasons == ["broker (consume connection): disconnected (last on rabbit-2:5672)"])
        readiness.setNode("consume", node: "rabbit-1:5672")
        readiness.setConnection("consume", connected: true)
        #expect(readiness.report().text.contains("broker (consume connection): on rabbit-1:5672"))
    }
}
