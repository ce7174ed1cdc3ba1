@testable import AMQP
import Testing

/// `PAYBRIDGE_AMQP_URL` as a cluster's node list: comma-separated URLs, one node each, validated as one setting.
@Suite struct NodeListParsingTests {
    @Test func commaSeparatedURLsBecomeNodesEachWithItsOwnCredentialsAndTLS() throws {
        let config = try AMQPConfiguration(
            url: "amqp://svc:pw1@h1:5672/payments, amqps://other:p%40ss2@h2/payments ,\n"
                + "amqp://svc:pw3@h3:5679/payments")
        #expect(config.nodes.count == 3)
        #expect(config.nodes.map(\.endpoint) == ["h1:5672", "h2:5671", "h3:5679"])
        #expect(config.nodes.map(\.user) == ["svc", "other", "svc"])
        #expect(config.nodes.map(\.password) == ["pw1", "p@ss2", "pw3"])
        #expect(config.nodes.map { $0.tls != nil } == [false, true, false], "amqps is per node")
        #expect(config.virtualHost == "payments")
        // The first node is what the single-node properties read.
        #expect(config.host == "h1" && config.port == 5672 && config.user == "svc" && config.tls == nil)
        #expect(config.endpointList == "h1:5672, h2:5671, h3:5679")
        #expect(config.nodeOrder == .shuffled)
    }

    @Test func oneURLIsOneNodeAsBeforeEvenWithACommaInItsPassword() throws {
        let config = try AMQPConfiguration(url: "amqp://svc:a,b,amqp@h1:5673/%2F")
        #expect(config.nodes.count == 1)
        #expect(config.password == "a,b,amqp")
        #expect(config.endpoint == "h1:5673")
        #expect(config.redactedURL == "amqp://svc@h1:5673/%2F")
        // In a list, too: only a comma followed by a scheme starts the next URL.
        let list = try AMQPConfiguration(url: "amqp://svc:a,b@h1/%2F,amqp://svc:c,d@h2/%2F")
        #expect(list.nodes.map(\.password) == ["a,b", "c,d"])
    }

    @Test func everyNodeMustServeTheSameVhostAndTheErrorNamesBothWithoutPasswords() {
        let error = #expect(throws: AMQPError.self) {
            try AMQPConfiguration(url: "amqp://svc:hunter2@h1/payments,amqp://svc:hunter3@h2/orders")
        }
        #expect(error?.code == .invalidConfiguration)
        let text = error.map { "\($0)" } ?? ""
        #expect(text.contains("URL 2 of 2 (h2:5672)") && text.contains("'orders'") && text.contains("'payments'"))
        #expect(text.contains("same vhost"))
        #expect(!text.contains("hunter2") && !text.contains("hunter3"))
        // An absent path and `/` and `%2F` are the same vhost.
        #expect((try? AMQPConfiguration(url: "amqp://h1,amqp://h2/,amqp://h3/%2F"))?.virtualHost == "/")
    }

    @Test func theListIsBoundedInNodesAndInBytes() throws {
        let sixteen = (1...16).map { "amqp://u:p@h\($0)/vh" }
        #expect(try AMQPConfiguration(url: sixteen.joined(separator: ",")).nodes.count == 16)
        let seventeen = (1...17).map { "amqp://u:p@h\($0)/vh" }
        let tooMany = #expect(throws: AMQPError.self) { try AMQPConfiguration(url: seventeen.joined(separator: ",")) }
        #expect(tooMany?.message.contains("at most 16") == true)
        let long = "amqp://u:" + String(repeating: "x", count: 8 * 1024) + "@h1/vh"
        let tooLong = #expect(throws: AMQPError.self) { try AMQPConfiguration(url: long) }
        #expect(tooLong?.message.contains("8192 bytes") == true)
        #expect(tooLong.map { "\($0)" }?.contains("xxxx") == false, "the setting is not echoed")
    }

    @Test func aBadEntryIsNumberedAndNotEchoed() {
        let scheme = #expect(throws: AMQPError.self) {
            try AMQPConfiguration(url: "amqp://u:s3cret@h1/vh,amqp://u:s3cret@h2:99999/vh")
        }
        #expect(scheme?.message.hasPrefix("URL 2 of 2: ") == true)
        #expect(scheme.map { "\($0)" }?.contains("s3cret") == false)
        let trailing = #expect(throws: AMQPError.self) { try AMQPConfiguration(url: "amqp://h1/vh,amqp://h2/vh,") }
        #expect(trailing?.message.contains("ends with a comma") == true)
        #expect(throws: AMQPError.self) { try AMQPConfiguration(url: ",amqp://h1/vh") }
    }

    @Test func aNodeListedTwiceIsAnError() {
        let error = #expect(throws: AMQPError.self) {
            try AMQPConfiguration(url: "amqp://a:1@h1:5672/vh,amqp://h2/vh,amqp://b:2@h1/vh")
        }
        #expect(error?.message.contains("URLs 1 and 3 of 3 both name node h1:5672") == true)
    }

    @Test func connectionSettingsInTheQueryMustAgreeAcrossURLs() throws {
        let config = try AMQPConfiguration(url: "amqp://h1/vh,amqp://h2/vh?heartbeat=5&connection_name=w1")
        #expect(config.heartbeat == .seconds(5))
        #expect(config.connectionName == "w1")
        #expect(throws: AMQPError.self) {
            try AMQPConfiguration(url: "amqp://h1/vh?heartbeat=5,amqp://h2/vh?heartbeat=6")
        }
        #expect(throws: AMQPError.self) {
            try AMQPConfiguration(url: "amqp://h1/vh?connection_name=a,amqp://h2/vh?connection_name=b")
        }
    }

    @Test func theRedactedListNamesEveryNodeAndNoPassword() throws {
        let config = try AMQPConfiguration(url: "amqp://svc:hunter2@h1/%2F,amqps://ops:hunter3@h2:5671/%2F")
        #expect(config.redactedURL == "amqp://svc@h1:5672/%2F,amqps://ops@h2:5671/%2F")
        #expect("\(config.nodes)".contains("h2:5671") && !"\(config.nodes)".contains("hunter"))
        #expect(!String(reflecting: config.nodes[1]).contains("hunter3"))
    }

    @Test func oneAttemptOpensOneNodeWithTheSharedSettings() throws {
        var config = try AMQPConfiguration(url: "amqp://a:1@h1/vh?heartbeat=7,amqps://b:2@h2/vh")
        config.connectionName = "worker"
        let second = config.on(node: 1)
        #expect(second.nodes == [config.nodes[1]])
        #expect(second.host == "h2" && second.port == 5671 && second.user == "b" && second.password == "2")
        #expect(second.tls != nil)
        #expect(second.virtualHost == "vh" && second.heartbeat == .seconds(7) && second.connectionName == "worker")
    }
}
