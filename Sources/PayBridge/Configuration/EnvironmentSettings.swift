import AMQP
import Foundation
import PayBridgeContract
import PayBridgeTopology

/// PayBridge's one reader of settings from the environment, shared by the runtime (``PayBridgeConfiguration``)
/// and the operator tools: trimmed values, bounded integers, http(s) URLs, secrets from `NAME` or `NAME_FILE`, and
/// the broker URL. Every error names the setting and never echoes a secret.
public struct EnvironmentSettings: Sendable {
    let values: [String: String]

    public init(_ values: [String: String] = ProcessInfo.processInfo.environment) {
        self.values = values
    }

    /// The variable naming the broker; its `_FILE` variant names a file holding the URL (it holds a password).
    public static let amqpURLVariable = "PAYBRIDGE_AMQP_URL"
    /// The broker when ``amqpURLVariable`` is not set.
    public static let defaultAMQPURL = "amqp://guest:guest@127.0.0.1:5672/%2F"

    /// The broker URL from `PAYBRIDGE_AMQP_URL`, or from the file named by `PAYBRIDGE_AMQP_URL_FILE`, else
    /// ``defaultAMQPURL``; setting both is an error. Either may hold a cluster's nodes as comma-separated URLs
    /// (white space and line breaks around the commas are fine).
    /// - Returns: the URL and where it came from, for messages (never the URL itself: it holds a password).
    public func amqpURL() throws(ConfigurationError) -> (url: String, source: String) {
        let name = Self.amqpURLVariable
        switch (value(name), value(name + "_FILE")) {
        case (.some, .some):
            throw ConfigurationError(setting: name, problem: "both \(name) and \(name)_FILE are set; set only one")
        case (.some(let url), nil):
            return (url, name)
        case (nil, .some(let path)):
            let url = try file(name + "_FILE")!.trimmingCharacters(in: .whitespacesAndNewlines)
            return (url, "\(name)_FILE (\(path))")
        case (nil, nil):
            return (Self.defaultAMQPURL, "the default of \(name)")
        }
    }

    /// The broker configuration from ``amqpURL()``, and where it came from (the URL file is read once). A node list
    /// is checked as ``AMQPConfiguration/init(url:)`` does: at most 16 URLs and 8 KiB, one vhost, no node twice.
    /// - Throws: ``ConfigurationError`` naming the variable (`PAYBRIDGE_AMQP_URL` or its `_FILE`), never a password.
    ///
    /// Every `amqps://` node gets the TLS files of ``amqpTLSFiles()``.
    public func amqpConfiguration() throws(ConfigurationError) -> (configuration: AMQPConfiguration, source: String) {
        let (url, source) = try amqpURL()
        var configuration: AMQPConfiguration
        do {
            configuration = try AMQPConfiguration(url: url)
        } catch {
            throw ConfigurationError(setting: source, problem: (error as? AMQPError)?.message ?? "invalid URL")
        }
        let files = try amqpTLSFiles()
        configuration.updateTLS { tls in
            tls.caCertificatePath = files.ca ?? tls.caCertificatePath
            tls.clientCertificatePath = files.certificate
            tls.clientKeyPath = files.key
        }
        return (configuration, source)
    }

    /// The PEM CA bundle `amqps://` nodes are verified with.
    public static let amqpCAFileVariable = "PAYBRIDGE_AMQP_CA_FILE"
    /// The PEM client certificate and its unencrypted PEM private key, for a broker that asks for one: both or neither.
    public static let amqpCertificateFileVariable = "PAYBRIDGE_AMQP_CERT_FILE"
    public static let amqpKeyFileVariable = "PAYBRIDGE_AMQP_KEY_FILE"
    /// The CA bundle used when ``amqpCAFileVariable`` is not set (Debian's `ca-certificates`), if it exists:
    /// librabbitmq loads no CAs of its own, so without one `amqps://` could verify no broker.
    public static let systemCAFile = "/etc/ssl/certs/ca-certificates.crt"

    /// `PAYBRIDGE_AMQP_CA_FILE`, `PAYBRIDGE_AMQP_CERT_FILE` and `PAYBRIDGE_AMQP_KEY_FILE`, each checked here (read,
    /// PEM of the right kind) so a missing or unreadable file stops the start, naming the variable; the CA file
    /// defaults to ``systemCAFile`` when that exists. They apply to `amqps://` nodes only.
    /// - Throws: ``ConfigurationError`` naming the variable and the path (never a key's content).
    public func amqpTLSFiles() throws(ConfigurationError) -> (ca: String?, certificate: String?, key: String?) {
        func pem(_ name: String, _ label: String, _ kinds: [String]) throws(ConfigurationError) -> String? {
            guard let content = try file(name), let path = value(name) else { return nil }
            guard kinds.contains(where: { content.contains("-----BEGIN \($0)-----") }) else {
                throw ConfigurationError(setting: name, problem: "file \(path) holds no PEM \(label)")
            }
            return path
        }
        var ca = try pem(Self.amqpCAFileVariable, "certificate", ["CERTIFICATE", "TRUSTED CERTIFICATE"])
        if ca == nil, FileManager.default.isReadableFile(atPath: Self.systemCAFile) { ca = Self.systemCAFile }
        let certificate = try pem(Self.amqpCertificateFileVariable, "certificate", ["CERTIFICATE"])
        let key = try pem(Self.amqpKeyFileVariable, "private key", ["PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY"])
        switch (certificate, key) {
        case (.some, nil):
            throw ConfigurationError(setting: Self.amqpKeyFileVariable,
                                     problem: "required with \(Self.amqpCertificateFileVariable)")
        case (nil, .some):
            throw ConfigurationError(setting: Self.amqpCertificateFileVariable,
                                     problem: "required with \(Self.amqpKeyFileVariable)")
        default:
            return (ca, certificate, key)
        }
    }

    /// `PAYBRIDGE_RECONCILE_SCHEDULE`, when set (the runtime and `paybridge topology` read it the same way).
    public func reconcileSchedule() throws(ConfigurationError) -> ReconcileSchedule? {
        guard let text = value("PAYBRIDGE_RECONCILE_SCHEDULE") else { return nil }
        do {
            return try ReconcileSchedule(parsing: text)
        } catch {
            throw ConfigurationError(setting: "PAYBRIDGE_RECONCILE_SCHEDULE",
                                     problem: "\(error); e.g. 1m,5m,15m,1h,6h,24h or off")
        }
    }

    /// The retention of the event history stream `payments.history` (the runtime and `paybridge topology` read it
    /// the same way): `PAYBRIDGE_HISTORY_MAX_AGE` (RabbitMQ's `x-max-age` syntax, default `7D`) and
    /// `PAYBRIDGE_HISTORY_MAX_BYTES` (a positive number of bytes; unset: no size limit, only the age).
    /// - Throws: ``ConfigurationError`` naming the variable.
    public func historyRetention() throws(ConfigurationError) -> HistoryRetention {
        let ageName = "PAYBRIDGE_HISTORY_MAX_AGE", bytesName = "PAYBRIDGE_HISTORY_MAX_BYTES"
        var maxBytes: Int?
        if let text = value(bytesName) {
            guard text.utf8.count <= 19, text.allSatisfy({ ("0"..."9").contains($0) }), let bytes = Int(text),
                bytes > 0
            else {
                throw ConfigurationError(setting: bytesName, problem: "must be a positive whole number of bytes, "
                                         + "e.g. 20000000000 for 20 GB; unset for no size limit (got \"\(text.prefix(32))\")")
            }
            maxBytes = bytes
        }
        do {
            return try HistoryRetention(maxAge: value(ageName) ?? HistoryRetention.default.maxAge, maxBytes: maxBytes)
        } catch {
            throw ConfigurationError(setting: ageName, problem: error.reason)
        }
    }

    func value(_ name: String) -> String? {
        guard let value = values[name]?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        return value
    }

    func integer(_ name: String, in range: ClosedRange<Int>) throws(ConfigurationError) -> Int? {
        guard let text = value(name) else { return nil }
        guard let number = Int(text), range.contains(number) else {
            throw ConfigurationError(setting: name, problem: "must be a whole number in \(range) (got \"\(text)\")")
        }
        return number
    }

    func url(_ name: String) throws(ConfigurationError) -> String? {
        guard let text = value(name) else { return nil }
        guard let url = URL(string: text), let scheme = url.scheme, ["http", "https"].contains(scheme), url.host != nil
        else {
            throw ConfigurationError(setting: name,
                                     problem: "must be an http(s) URL (got \"\(Self.redactedURLText(text))\")")
        }
        return text
    }

    /// A URL setting's text as an error may show it: without its user information (`user:password@`), which is
    /// replaced by `***@`, and at most 200 characters. Works on text that is not a valid URL too (that is when it is
    /// shown): everything after `scheme://` (or from the start, without one) up to the last `@` is hidden, so a
    /// password holding `/`, `?`, `#` or `@` does not show either.
    public static func redactedURLText(_ text: String) -> String {
        var shown = text
        let start = shown.range(of: "://").map(\.upperBound) ?? shown.startIndex
        if let at = shown[start...].lastIndex(of: "@") {
            shown.replaceSubrange(start..<shown.index(after: at), with: "***@")
        }
        return shown.count <= 200 ? shown : String(shown.prefix(200)) + "…"
    }

    /// A secret from `NAME` or from the file named by `NAME_FILE` (file wins); never echoed in errors.
    func secret(_ name: String) throws(ConfigurationError) -> String? {
        if let fromFile = try file(name + "_FILE") {
            return fromFile.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        return value(name)
    }

    /// Secret and key files are small; a larger one (or a device such as /dev/zero) is a mistake, not read whole.
    static let maximumFileBytes = 1 << 20

    /// The content of the file named by `NAME`, exactly as stored (UTF-8, at most ``maximumFileBytes``).
    func file(_ name: String) throws(ConfigurationError) -> String? {
        guard let path = value(name) else { return nil }
        guard let handle = FileHandle(forReadingAtPath: path),
              let data = try? handle.read(upToCount: Self.maximumFileBytes + 1) ?? Data()
        else {
            throw ConfigurationError(setting: name, problem: "cannot read file \(path)")
        }
        try? handle.close()
        guard data.count <= Self.maximumFileBytes else {
            throw ConfigurationError(setting: name, problem: "file \(path) is larger than \(Self.maximumFileBytes) bytes")
        }
        guard let content = String(bytes: data, encoding: .utf8) else {
            throw ConfigurationError(setting: name, problem: "file \(path) is not UTF-8 text")
        }
        return content
    }
}
