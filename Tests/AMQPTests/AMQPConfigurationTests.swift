import AMQP
import Testing

@Suite struct AMQPConfigurationTests {
    @Test func parsesFullURLWithEncodedVhost() throws {
        let config = try AMQPConfiguration(url: "amqp://user:p%40ss@broker.local:5673/%2Fpayments?heartbeat=5&connection_name=w1")
        #expect(config.host == "broker.local")
        #expect(config.port == 5673)
        #expect(config.user == "user")
        #expect(config.password == "p@ss")
        #expect(config.virtualHost == "/payments")
        #expect(config.heartbeat == .seconds(5))
        #expect(config.connectionName == "w1")
        #expect(config.tls == nil)
    }

    @Test func defaultsVhostToSlashAndAmqpsToTLSOn5671() throws {
        let plain = try AMQPConfiguration(url: "amqp://guest:guest@localhost")
        #expect(plain.virtualHost == "/")
        #expect(plain.port == 5672)
        let tls = try AMQPConfiguration(url: "amqps://guest:guest@localhost/")
        #expect(tls.port == 5671)
        #expect(tls.tls != nil)
    }

    @Test func rejectsOtherSchemesWithAClearMessage() {
        #expect(throws: AMQPError.self) { try AMQPConfiguration(url: "http://localhost") }
        do {
            _ = try AMQPConfiguration(url: "redis://secret@localhost")
        } catch let error as AMQPError {
            #expect(error.code == .invalidConfiguration)
            #expect(!error.description.contains("secret"))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func rejectsAHeartbeatOutsideAMQPsSixteenBits() {
        // A heartbeat beyond Int32 used to trap when the connection passed it to librabbitmq.
        for value in ["65536", "3000000000", "99999999999999999999", "-1", "x"] {
            #expect(throws: AMQPError.self) { try AMQPConfiguration(url: "amqp://localhost/?heartbeat=\(value)") }
        }
        #expect((try? AMQPConfiguration(url: "amqp://localhost/?heartbeat=65535"))?.heartbeat == .seconds(65535))
    }

    @Test func redactedURLNeverContainsThePassword() throws {
        let config = try AMQPConfiguration(url: "amqp://svc:hunter2@localhost:5672/%2F")
        #expect(!config.redactedURL.contains("hunter2"))
        #expect(config.redactedURL.contains("svc@localhost:5672"))
    }

    @Test func reconnectBackoffIsExponentialCappedAndJittered() {
        let policy = AMQPReconnectPolicy(initialDelay: .milliseconds(100), maximumDelay: .seconds(2))
        #expect(policy.delay(forAttempt: 0, randomFraction: 1) == .milliseconds(100))
        #expect(policy.delay(forAttempt: 3, randomFraction: 1) == .milliseconds(800))
        #expect(policy.delay(forAttempt: 10, randomFraction: 1) == .seconds(2))
        #expect(policy.delay(forAttempt: 3, randomFraction: 0.5) == .milliseconds(400))
        #expect(policy.delay(forAttempt: 3, randomFraction: 0) == .zero)
    }

    @Test func quorumQueueArgumentsAreTyped() {
        let queue = AMQPQueue("q", kind: .quorum, deadLetterExchange: "dlx", deadLetterRoutingKey: "dead",
                              deliveryLimit: 5, messageTTLMilliseconds: 1000)
        let args = queue.declareArguments
        #expect(args["x-queue-type"] == .string("quorum"))
        #expect(args["x-dead-letter-exchange"] == .string("dlx"))
        #expect(args["x-dead-letter-routing-key"] == .string("dead"))
        #expect(args["x-delivery-limit"] == .int64(5))
        #expect(args["x-message-ttl"] == .int64(1000))
    }
}
