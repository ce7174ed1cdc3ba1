import AMQP
import BrokerTestKit
import Foundation
import Logging
import Testing

/// The broker `make test` starts. Tests that need it fail (never skip) when it is not there.
enum BrokerTestSupport {
    static var url: String {
        ProcessInfo.processInfo.environment["RABBITMQ_URL"] ?? "amqp://guest:guest@127.0.0.1:5672/%2F"
    }

    static func configuration(name: String = #function, heartbeat: Duration = .seconds(10)) throws -> AMQPConfiguration {
        var configuration = try AMQPConfiguration(url: url)
        configuration.connectionName = "test-\(name)"
        configuration.heartbeat = heartbeat
        configuration.reconnect = AMQPReconnectPolicy(initialDelay: .milliseconds(50), maximumDelay: .milliseconds(500))
        return configuration
    }

    static func connect(name: String = #function, heartbeat: Duration = .seconds(10)) async throws -> AMQPConnection {
        try await AMQPConnection.connect(configuration(name: name, heartbeat: heartbeat),
                                         logger: Logger(label: "test.amqp"))
    }

    static func uniqueName(_ prefix: String) -> String {
        "test.\(prefix).\(UUID().uuidString.prefix(8).lowercased())"
    }

    /// Runs `body` with a fresh connection, closing it afterwards.
    static func withConnection<R>(name: String = #function, heartbeat: Duration = .seconds(10),
                                  _ body: (AMQPConnection) async throws -> R) async throws -> R {
        let connection = try await connect(name: name, heartbeat: heartbeat)
        do {
            let result = try await body(connection)
            await connection.close()
            return result
        } catch {
            await connection.close()
            throw error
        }
    }

    /// `rabbitmqctl` with arguments; returns its exit status (awaited without blocking a thread).
    @discardableResult
    static func rabbitmqctl(_ arguments: String...) async throws -> Int32 {
        try await RabbitMQCtl.run(arguments)
    }
}

/// Collects the first N deliveries of a consumer (or until it ends).
func collect(_ consumer: AMQPConsumer, count: Int, ack: Bool = true) async throws -> [AMQPDelivery] {
    var received: [AMQPDelivery] = []
    for try await delivery in consumer {
        if ack { try await delivery.ack() }
        received.append(delivery)
        if received.count == count { break }
    }
    return received
}
