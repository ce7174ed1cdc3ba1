import AMQP
import Foundation
import Testing

@Suite(.timeLimit(.minutes(2))) struct AMQPConnectionFailureTests {
    @Test func wrongPasswordFailsFastWithAuthenticationError() async throws {
        var configuration = try BrokerTestSupport.configuration()
        configuration.password = "definitely-wrong-\(UUID().uuidString)"
        configuration.operationTimeout = .seconds(10)
        let started = ContinuousClock.now
        do {
            _ = try await AMQPConnection.connect(configuration)
            Issue.record("connected with a wrong password")
        } catch let error as AMQPError {
            #expect(error.code == .authenticationFailed)
            #expect(error.description.contains("login refused"))
            #expect(!error.description.contains(configuration.password))
            #expect(!error.debugDescription.contains(configuration.password))
        }
        // Fails on its first attempt (the reconnect policy would retry forever): well under two operation timeouts,
        // whatever the load on the broker.
        #expect(ContinuousClock.now - started < configuration.operationTimeout * 2)
    }

    @Test func closedPortFailsFastWithConnectionError() async throws {
        var configuration = try BrokerTestSupport.configuration()
        configuration.port = 1  // nothing listens on tcp/1 on loopback
        do {
            _ = try await AMQPConnection.connect(configuration)
            Issue.record("connected to a closed port")
        } catch let error as AMQPError {
            #expect(error.code == .connectionFailed)
            #expect(error.description.contains("127.0.0.1:1"))
        }
    }

    @Test func operationsAfterCloseFailWithAlreadyClosed() async throws {
        let connection = try await BrokerTestSupport.connect()
        await connection.close()
        do {
            try await connection.publish("late", exchange: "", routingKey: "nowhere")
            Issue.record("publish after close succeeded")
        } catch let error as AMQPError {
            #expect(error.code == .alreadyClosed)
        }
    }
}
