import BrokerTestKit
import Foundation
import PayBridgeContract
import Synchronization
import Testing

/// The broker users of `deploy/rabbitmq-definitions.json` for the end-to-end tests: PayBridge runs as
/// `paybridge`, commands are published as `payments-producer` and events read as `payments-consumer`, each with
/// exactly the permissions that file grants. The file, not the code, is read here: it is what operators import
/// (`make deploy-check` keeps it equal to `paybridge topology --print-definitions`).
enum BrokerRolesSupport {
    /// The test password of the three users (created on the local test broker only).
    static let password = "paybridge-test-role"

    /// `deploy/rabbitmq-definitions.json` of this repository.
    static let definitionsFile: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("deploy/rabbitmq-definitions.json")

    /// The `permissions` entries of the definitions file, moved to `vhost`.
    static func permissions(vhost: String) throws -> [[String: Any]] {
        let data = try Data(contentsOf: definitionsFile)
        let root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let entries = try #require(root["permissions"] as? [[String: Any]],
                                   "deploy/rabbitmq-definitions.json grants no permissions")
        return entries.map { entry in
            var entry = entry
            entry["vhost"] = vhost
            return entry
        }
    }

    /// Creates the three users once per test process (or resets their test password when they exist).
    static func ensureUsers() async throws {
        let task = creation.withLock { task -> Task<Void, any Error> in
            if let task { return task }
            let created = Task<Void, any Error> {
                for role in BrokerRole.all {
                    if try await RabbitMQCtl.run("add_user", role.user, password) != 0 {
                        let status = try await RabbitMQCtl.run("change_password", role.user, password)
                        guard status == 0 else { throw RoleSetupError(user: role.user) }
                    }
                }
            }
            task = created
            return created
        }
        try await task.value
    }

    /// Creates `vhost` with guest's full permissions (the tests' operator) and the three roles' permissions from
    /// the definitions file, in one `rabbitmqctl import_definitions`.
    static func createVHost(_ vhost: String) async throws {
        try await ensureUsers()
        let definitions: [String: Any] = [
            "vhosts": [["name": vhost]],
            "permissions": [["user": "guest", "vhost": vhost, "configure": ".*", "write": ".*", "read": ".*"]]
                + (try permissions(vhost: vhost)),
        ]
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("roles-\(vhost).json")
        try JSONSerialization.data(withJSONObject: definitions).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let status = try await RabbitMQCtl.run("import_definitions", file.path)
        try #require(status == 0, "rabbitmqctl import_definitions failed: is the broker local?")
    }

    /// `amqp://<role>:<password>@<host>:<port>/<vhost>` on the test broker.
    static func url(_ role: BrokerRole, vhost: String) -> String {
        let base = EndToEnd.brokerBase()  // amqp://guest:guest@host:port
        let hostPort = base.split(separator: "@", maxSplits: 1).last.map(String.init) ?? "127.0.0.1:5672"
        let scheme = base.hasPrefix("amqps://") ? "amqps" : "amqp"
        return "\(scheme)://\(role.user):\(password)@\(hostPort)/\(vhost)"
    }

    private static let creation = Mutex<Task<Void, any Error>?>(nil)

    struct RoleSetupError: Error, CustomStringConvertible {
        var user: String
        var description: String { "could not create or reset the broker user \(user)" }
    }
}
