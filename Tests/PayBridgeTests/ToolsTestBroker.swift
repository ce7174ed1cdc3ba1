import AMQP
import BrokerTestKit
import Foundation
import PayBridge
import PayBridgeContract
import Testing
import PayBridgeTopology

/// Broker access for the tools' tests. Every test runs in its own throwaway virtual host, so it can use the real
/// pinned names (`payments.*`) without touching the queues the worker's end-to-end tests use in `/`, and without
/// racing other tests. `make test` provides the broker; a missing broker fails the tests, it never skips them.
enum ToolsTestBroker {
    static var baseURL: String {
        ProcessInfo.processInfo.environment["RABBITMQ_URL"] ?? "amqp://guest:guest@127.0.0.1:5672/%2F"
    }

    /// Short retry delays for tests: the same scheme (5 stages), milliseconds instead of minutes.
    static let shortRetryDelays: [Duration] = [
        .milliseconds(300), .milliseconds(400), .milliseconds(500), .milliseconds(600), .milliseconds(700),
    ]

    /// Runs `body` in a fresh vhost (guest has all permissions on it), deleting the vhost afterwards.
    /// - Parameters:
    ///   - importTopology: also import ``BrokerSetup/definitionsJSON(vhost:retryDelays:)`` into it.
    ///   - retryDelays: the delays of the imported topology.
    ///   - body: gets the configuration of a connection to the vhost.
    static func withVHost<R>(
        importTopology: Bool = false, retryDelays: [Duration] = Topology.retryDelays,
        _ body: (AMQPConfiguration) async throws -> R
    ) async throws -> R {
        let vhost = "paybridge-tools-test-\(UUID().uuidString.prefix(8).lowercased())"
        var definitions: [String: Any] = [:]
        if importTopology {
            let json = BrokerSetup.definitionsJSON(vhost: vhost, retryDelays: retryDelays)
            definitions = try #require(JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        }
        definitions["vhosts"] = [["name": vhost]]
        definitions["permissions"] = [
            ["user": "guest", "vhost": vhost, "configure": ".*", "write": ".*", "read": ".*"],
        ]
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("\(vhost).json")
        try JSONSerialization.data(withJSONObject: definitions).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        try #require(await rabbitmqctl("import_definitions", file.path) == 0, "rabbitmqctl import_definitions failed")

        var configuration = try AMQPConfiguration(url: baseURL)
        configuration.virtualHost = vhost
        configuration.connectionName = "test-tools-\(vhost)"
        configuration.reconnect = AMQPReconnectPolicy(initialDelay: .milliseconds(50), maximumDelay: .milliseconds(500))
        do {
            let result = try await body(configuration)
            await rabbitmqctl("delete_vhost", vhost)
            return result
        } catch {
            await rabbitmqctl("delete_vhost", vhost)
            throw error
        }
    }

    /// Runs `body` with a fresh connection, closing it afterwards.
    static func withConnection<R>(_ configuration: AMQPConfiguration,
                                  _ body: (AMQPConnection) async throws -> R) async throws -> R {
        let connection = try await AMQPConnection.connect(configuration)
        do {
            let result = try await body(connection)
            await connection.close()
            return result
        } catch {
            await connection.close()
            throw error
        }
    }

    /// Consumes and acknowledges `count` messages from `queue`, waiting at most `within`; returns those received.
    static func receive(_ connection: AMQPConnection, from queue: String, count: Int = 1,
                        within: Duration = .seconds(10)) async throws -> [AMQPDelivery] {
        let consumer = try await connection.consume(queue: queue, prefetch: UInt16(count))
        return try await withThrowingTaskGroup(of: [AMQPDelivery]?.self) { group in
            group.addTask {
                var received: [AMQPDelivery] = []
                for try await delivery in consumer {
                    try await delivery.ack()
                    received.append(delivery)
                    if received.count == count { break }
                }
                return received
            }
            group.addTask {
                try? await Task.sleep(for: within)
                await consumer.cancel()
                return nil
            }
            var received: [AMQPDelivery] = []
            while let next = try await group.next() {
                if let next {
                    received = next
                    group.cancelAll()
                }
            }
            await consumer.cancel()
            return received
        }
    }

    /// The ready-message count of `queue`, polled until it equals `expected` or `within` passes.
    static func messageCount(_ connection: AMQPConnection, _ queue: String, becomes expected: UInt32,
                             within: Duration = .seconds(5)) async throws -> UInt32 {
        let deadline = ContinuousClock.now + within
        while true {
            let count = try await connection.declare(AMQPQueue(queue, kind: .quorum, passive: true)).messageCount
            if count == expected || ContinuousClock.now >= deadline { return count }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// A valid `amanpay.purchase` command.
    static func amanpayPurchase(id: String = UUID().uuidString, paymentId: String = "payment_812") -> [UInt8] {
        Array("""
            {"specversion":"1.0","id":"\(id)","type":"paybridge.amanpay.purchase.v1","source":"/tests/tools",\
            "time":"2026-11-21T06:00:00Z","datacontenttype":"application/json","data":{"paymentId":"\(paymentId)",\
            "amount":"250.51","currency":"BDT","customerEmail":"mark.cooper@example.com"}}
            """.utf8)
    }

    /// A valid `firstpay.status` command.
    static func firstpayStatus(id: String = UUID().uuidString) -> [UInt8] {
        Array("""
            {"specversion":"1.0","id":"\(id)","type":"paybridge.firstpay.status.v1","source":"/tests/tools",\
            "time":"2026-11-21T06:00:00Z","data":{"merchantPaymentId":"order-77"}}
            """.utf8)
    }

    /// `rabbitmqctl -q` with arguments; returns its exit status (-1 when it cannot start). Awaited without
    /// blocking a cooperative thread (see ``RabbitMQCtl``).
    @discardableResult
    static func rabbitmqctl(_ arguments: String...) async -> Int32 {
        (try? await RabbitMQCtl.run(arguments)) ?? -1
    }
}
