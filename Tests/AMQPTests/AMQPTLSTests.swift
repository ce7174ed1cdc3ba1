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

/// Certificates made with `openssl` in a fresh temporary directory (EC P-256 keys, valid for 2 days).
struct TestCertificates {
    let ca: String
    let otherCA: String
    let localhostCertificate: String
    let localhostKey: String
    let otherHostCertificate: String
    let otherHostKey: String

    static func make() async throws -> TestCertificates {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("paybridge-tls-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        func path(_ name: String) -> String { directory + "/" + name }
        func openssl(_ arguments: [String]) async throws {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["openssl"] + arguments
            process.currentDirectoryURL = URL(fileURLWithPath: directory)
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            let status = try await ChildProcess.runToExit(process)
            guard status == 0 else { throw TestCertificateError(command: arguments.joined(separator: " ")) }
        }
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        for (name, subject) in [("ca", "/CN=PayBridge Test CA"), ("other-ca", "/CN=Unrelated Test CA")] {
            try await openssl(
                ["req", "-x509"] + ec + ["-keyout", "\(name).key", "-out", "\(name).pem", "-days", "2", "-subj", subject,
                 "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
        }
        for (name, host, altNames) in [
            ("localhost", "localhost", "DNS:localhost,IP:127.0.0.1"),
            ("other-host", "broker.example.invalid", "DNS:broker.example.invalid"),
        ] {
            try "subjectAltName=\(altNames)\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
                .write(toFile: path("\(name).ext"), atomically: true, encoding: .utf8)
            try await openssl(["req"] + ec + ["-keyout", "\(name).key", "-out", "\(name).csr", "-subj", "/CN=\(host)"])
            try await openssl([
                "x509", "-req", "-in", "\(name).csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                "-out", "\(name).pem", "-days", "2", "-extfile", "\(name).ext",
            ])
        }
        return TestCertificates(
            ca: path("ca.pem"), otherCA: path("other-ca.pem"), localhostCertificate: path("localhost.pem"),
            localhostKey: path("localhost.key"), otherHostCertificate: path("other-host.pem"),
            otherHostKey: path("other-host.key"))
    }
}

struct TestCertificateError: Error, CustomStringConvertible {
    let command: String
    var description: String { "openssl \(command) failed" }
}
