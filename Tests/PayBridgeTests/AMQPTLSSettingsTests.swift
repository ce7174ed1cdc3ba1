import AMQP
import BrokerTestKit
import Foundation
import Logging
@testable import PayBridge
import Testing

/// `amqps://` from the environment. `PAYBRIDGE_AMQP_CA_FILE`, `PAYBRIDGE_AMQP_CERT_FILE` and
/// `PAYBRIDGE_AMQP_KEY_FILE` reach every `amqps://` node, and librabbitmq verifies with them: against a TLS endpoint
/// in front of the shared broker (``TLSRelay``) that asks for a client certificate, with certificates the test makes.
@Suite(.timeLimit(.minutes(2))) struct AMQPTLSSettingsTests {
    static let certificates = Task { try await TestCertificates.make() }

    /// Runs `body` with a relay presenting the `localhost` certificate and asking for a client certificate signed by
    /// the test CA.
    func withMutualTLSRelay(_ body: (TLSRelay, TestCertificates) async throws -> Void) async throws {
        let certificates = try await Self.certificates.value
        let relay = try await TLSRelay.start(certificateChainPath: certificates.localhostCertificate,
                                             privateKeyPath: certificates.localhostKey, clientCAPath: certificates.ca)
        do {
            try await body(relay, certificates)
        } catch {
            try? await relay.stop()
            throw error
        }
        try await relay.stop()
    }

    @Test func theCAAndClientCertificateFromTheEnvironmentConnectToABrokerThatVerifiesBothWays() async throws {
        try await withMutualTLSRelay { relay, certificates in
            var env = [
                "PAYBRIDGE_AMQP_URL": "amqps://guest:guest@localhost:\(relay.port)/%2F",
                "PAYBRIDGE_AMQP_CA_FILE": certificates.ca,
                "PAYBRIDGE_AMQP_CERT_FILE": certificates.clientCertificate,
                "PAYBRIDGE_AMQP_KEY_FILE": certificates.clientKey,
            ]
            var configuration = try EnvironmentSettings(env).amqpConfiguration().configuration
            #expect(configuration.tls == AMQPConfiguration.TLS(
                caCertificatePath: certificates.ca, clientCertificatePath: certificates.clientCertificate,
                clientKeyPath: certificates.clientKey))
            configuration.operationTimeout = .seconds(5)
            let connection = try await AMQPConnection.connect(configuration, logger: Logger(label: "test.tls"))
            let queue = "tls-settings-\(UUID().uuidString.prefix(8))"
            try await connection.declare(AMQPQueue(queue, durable: false, autoDelete: false))
            try await connection.publish("over mutual TLS", exchange: "", routingKey: queue)
            #expect(try await connection.deleteQueue(queue) == 1)
            await connection.close()

            // Every amqps:// node of a list gets the files; an amqp:// node stays plain.
            env["PAYBRIDGE_AMQP_URL"] = "amqps://guest:guest@localhost:\(relay.port)/%2F,"
                + "amqps://guest:guest@127.0.0.1:\(relay.port)/%2F,amqp://guest:guest@127.0.0.1:5672/%2F"
            let nodes = try EnvironmentSettings(env).amqpConfiguration().configuration.nodes
            #expect(nodes.map(\.tls?.caCertificatePath) == [certificates.ca, certificates.ca, nil])
            #expect(nodes.map(\.tls?.clientCertificatePath) == [certificates.clientCertificate,
                                                                 certificates.clientCertificate, nil])
            #expect(nodes.map(\.tls?.clientKeyPath) == [certificates.clientKey, certificates.clientKey, nil])
        }
    }

    @Test func withTheWrongCAFileVerificationOfTheBrokerFails() async throws {
        try await withMutualTLSRelay { relay, certificates in
            var configuration = try EnvironmentSettings([
                "PAYBRIDGE_AMQP_URL": "amqps://guest:guest@localhost:\(relay.port)/%2F",
                "PAYBRIDGE_AMQP_CA_FILE": certificates.otherCA,
                "PAYBRIDGE_AMQP_CERT_FILE": certificates.clientCertificate,
                "PAYBRIDGE_AMQP_KEY_FILE": certificates.clientKey,
            ]).amqpConfiguration().configuration
            configuration.operationTimeout = .seconds(5)
            let error = await #expect(throws: AMQPError.self) {
                let connection = try await AMQPConnection.connect(configuration, logger: Logger(label: "test.tls"))
                await connection.close()
            }
            // AMQP_STATUS_SSL_PEER_VERIFY_FAILED: refused for the broker's certificate, not a timeout.
            #expect(error?.code == .connectionFailed)
            #expect(error?.libraryStatus == -0x0202)
        }
    }

    @Test func withoutTheClientCertificateABrokerThatAsksForOneRefusesTheConnection() async throws {
        try await withMutualTLSRelay { relay, certificates in
            var configuration = try EnvironmentSettings([
                "PAYBRIDGE_AMQP_URL": "amqps://guest:guest@localhost:\(relay.port)/%2F",
                "PAYBRIDGE_AMQP_CA_FILE": certificates.ca,
            ]).amqpConfiguration().configuration
            configuration.operationTimeout = .seconds(5)
            await #expect(throws: AMQPError.self) {
                let connection = try await AMQPConnection.connect(configuration, logger: Logger(label: "test.tls"))
                await connection.close()
            }
        }
    }
}
