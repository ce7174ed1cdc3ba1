import AMQP
import BrokerTestKit
import Foundation
import Logging
import Testing

/// `amqps://` against a TLS endpoint in front of the shared broker (``TLSRelay``), with certificates made for the
/// test by `openssl`: a CA, a server certificate for `localhost`/127.0.0.1 signed by it, one for another host
/// name, and an unrelated CA.
@Suite(.timeLimit(.minutes(2))) struct AMQPTLSTests {
    /// Made once for the suite (six `openssl` runs).
    static let certificates = Task { try await TestCertificates.make() }

    @Test func amqpsToAnEndpointTheConfiguredCAVouchesForRoundTripsAMessage() async throws {
        let certificates = try await Self.certificates.value
        try await withRelay(certificates.localhostCertificate, certificates.localhostKey) { relay in
            let connection = try await connect(port: relay.port, trusting: certificates.ca)
            let queue = BrokerTestSupport.uniqueName("tls")
            try await connection.declare(AMQPQueue(queue, durable: false, autoDelete: false))
            try await connection.publish("over TLS", exchange: "", routingKey: queue)
            let consumer = try await connection.consume(queue: queue, prefetch: 1)
            let received = try await collect(consumer, count: 1)
            #expect(received.map(\.bodyString) == ["over TLS"])
            await consumer.cancel()
            #expect(try await connection.deleteQueue(queue) == 0)
            await connection.close()
        }
    }

    @Test func aCertificateFromAnotherCAIsRefused() async throws {
        let certificates = try await Self.certificates.value
        try await withRelay(certificates.localhostCertificate, certificates.localhostKey) { relay in
            let error = await #expect(throws: AMQPError.self) {
                let connection = try await connect(port: relay.port, trusting: certificates.otherCA)
                await connection.close()
            }
            // librabbitmq's AMQP_STATUS_SSL_PEER_VERIFY_FAILED (-0x0202): refused for the certificate, not a timeout.
            #expect(error?.code == .connectionFailed)
            #expect(error?.libraryStatus == -0x0202)
            #expect(error.map { "\($0)" }?.contains("peer cert verification failed") == true)
        }
    }

    @Test func aCertificateForAnotherHostIsRefusedUnlessPeerVerificationIsOff() async throws {
        let certificates = try await Self.certificates.value
        try await withRelay(certificates.otherHostCertificate, certificates.otherHostKey) { relay in
            let error = await #expect(throws: AMQPError.self) {
                let connection = try await connect(port: relay.port, trusting: certificates.ca)
                await connection.close()
            }
            // AMQP_STATUS_SSL_HOSTNAME_VERIFY_FAILED (-0x0201): the CA is right, the name is not.
            #expect(error?.code == .connectionFailed)
            #expect(error?.libraryStatus == -0x0201)
            #expect(error.map { "\($0)" }?.contains("hostname verification failed") == true)
            // `verifyPeer: false` (for test setups only) accepts it.
            let connection = try await connect(port: relay.port, trusting: certificates.ca, verifyPeer: false)
            let queue = BrokerTestSupport.uniqueName("tls-unverified")
            try await connection.declare(AMQPQueue(queue, durable: false, autoDelete: true))
            await connection.close()
        }
    }

    /// Runs `body` with a TLS relay presenting the given certificate; the relay is stopped however `body` ends.
    func withRelay(_ certificate: String, _ key: String, _ body: (TLSRelay) async throws -> Void) async throws {
        let relay = try await TLSRelay.start(certificateChainPath: certificate, privateKeyPath: key)
        do {
            try await body(relay)
        } catch {
            try? await relay.stop()
            throw error
        }
        try await relay.stop()
    }

    func connect(port: Int, trusting ca: String, verifyPeer: Bool = true) async throws -> AMQPConnection {
        var configuration = try AMQPConfiguration(url: "amqps://guest:guest@localhost:\(port)/%2F")
        configuration.tls = AMQPConfiguration.TLS(caCertificatePath: ca, verifyPeer: verifyPeer)
        configuration.connectionName = "test-tls"
        configuration.operationTimeout = .seconds(5)
        return try await AMQPConnection.connect(configuration, logger: Logger(label: "test.amqp.tls"))
    }
}
