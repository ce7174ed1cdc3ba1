import Foundation

/// Certificates for TLS tests, made with `openssl` in a fresh temporary directory (EC P-256 keys, valid for 2 days):
/// a CA, a server certificate for `localhost`/127.0.0.1 signed by it, one for another host name, a client
/// certificate signed by it, and an unrelated CA.
public struct TestCertificates: Sendable {
    public let ca: String
    public let otherCA: String
    public let localhostCertificate: String
    public let localhostKey: String
    public let otherHostCertificate: String
    public let otherHostKey: String
    /// A client certificate (`CN=paybridge`, clientAuth) signed by ``ca``, and its key.
    public let clientCertificate: String
    public let clientKey: String

    public static func make() async throws -> TestCertificates {
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
        for (name, host, altNames, usage) in [
            ("localhost", "localhost", "DNS:localhost,IP:127.0.0.1", "serverAuth"),
            ("other-host", "broker.example.invalid", "DNS:broker.example.invalid", "serverAuth"),
            ("client", "paybridge", "DNS:paybridge", "clientAuth"),
        ] {
            try "subjectAltName=\(altNames)\nbasicConstraints=CA:FALSE\nextendedKeyUsage=\(usage)\n"
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
            otherHostKey: path("other-host.key"), clientCertificate: path("client.pem"),
            clientKey: path("client.key"))
    }
}

public struct TestCertificateError: Error, CustomStringConvertible {
    let command: String
    public var description: String { "openssl \(command) failed" }
}
