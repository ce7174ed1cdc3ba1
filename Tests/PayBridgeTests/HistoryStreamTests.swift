import AMQP
import BrokerTestKit
import Foundation
import Logging
import PayBridge
import PayBridgeContract
import Synchronization
import Testing
import PayBridgeTopology

/// The event history stream `payments.history` on a real broker: declared by the topology with its retention,
/// bound to every event, and kept as it is (with a warning) when the retention setting changed after it was created.
@Suite(.timeLimit(.minutes(2)))
struct HistoryStreamTests {
    /// `name<TAB>type<TAB>arguments` of the vhost's queue `name`, as `rabbitmqctl list_queues` prints it.
    static func listed(_ vhost: String, _ name: String) async throws -> String {
        let output = try #require(try await RabbitMQCtl.output("list_queues", "-p", vhost, "name", "type", "arguments"))
        return try #require(output.split(separator: "\n").first { $0.hasPrefix(name + "\t") }.map(String.init),
                            "\(name) is not listed in \(vhost): \(output)")
    }

    /// Every delivery of the stream from its start, up to `count`.
    static func readFromTheStart(_ connection: AMQPConnection, count: Int) async throws -> [AMQPDelivery] {
        let consumer = try await connection.consume(queue: Topology.historyStream, prefetch: 10,
                                                    arguments: ["x-stream-offset": .string("first")])
        var deliveries: [AMQPDelivery] = []
        for try await delivery in consumer {
            try await delivery.ack()
            deliveries.append(delivery)
            if deliveries.count == count { break }
        }
        await consumer.cancel()
        return deliveries
    }

    @Test func theStreamKeepsEveryEventWithItsRetention() async throws {
        let retention = try HistoryRetention(maxAge: "3D", maxBytes: 50_000_000)
        try await ToolsTestBroker.withVHost { configuration in
            try await ToolsTestBroker.withConnection(configuration) { connection in
                try await BrokerSetup.declare(on: connection, historyRetention: retention)
                try await BrokerSetup.declare(on: connection, historyRetention: retention)  // idempotent
                let state = try await connection.declare(AMQPQueue(Topology.historyStream, kind: .stream,
                                                                   passive: true))
                #expect(state.consumerCount == 0)
                let listed = try await Self.listed(configuration.virtualHost, Topology.historyStream)
                #expect(listed.contains("\tstream\t"), "a stream: \(listed)")
                #expect(listed.contains("x-max-age") && listed.contains("3D"), "\(listed)")
                #expect(listed.contains("x-max-length-bytes") && listed.contains("50000000"), "\(listed)")

                // Two events under keys nobody else binds: the stream (`#`) takes both, so the mandatory publishes
                // are routed.
                let bodies = [#"{"specversion":"1.0","id":"h-1","type":"t","source":"/s"}"#,
                              #"{"specversion":"1.0","id":"h-2","type":"t","source":"/s"}"#]
                for (body, key) in zip(bodies, ["amanpay.purchase.response", "firstpay.callback"]) {
                    try await connection.publish(Array(body.utf8), exchange: Topology.outcomesExchange,
                                                 routingKey: key, mandatory: true,
                                                 properties: AMQPProperties(persistent: true, messageId: key))
                }
                let read = try await Self.readFromTheStart(connection, count: 2)
                #expect(read.map(\.bodyString) == bodies)
                #expect(read.map(\.routingKey) == ["amanpay.purchase.response", "firstpay.callback"])
                #expect(read.compactMap { $0.properties.headers?["x-stream-offset"]?.intValue } == [0, 1],
                        "stream deliveries carry their offset")
                // Reading removed nothing.
                #expect(try await Self.readFromTheStart(connection, count: 2).map(\.bodyString) == bodies)
            }
        }
    }

    @Test func aChangedRetentionKeepsTheStreamWarnsAndDeclaresTheRest() async throws {
        try await ToolsTestBroker.withVHost { configuration in
            try await ToolsTestBroker.withConnection(configuration) { connection in
                try await BrokerSetup.declare(on: connection)  // 7D
                try await connection.publish(Array(#"{"id":"kept"}"#.utf8), exchange: Topology.outcomesExchange,
                                             routingKey: "amanpay.purchase.response", mandatory: true)
                // The operator changes PAYBRIDGE_HISTORY_MAX_AGE and adds PAYBRIDGE_HISTORY_MAX_BYTES: RabbitMQ
                // refuses to redeclare the stream (406), PayBridge goes on.
                let warnings = WarningCapture()
                let changed = try HistoryRetention(maxAge: "14D", maxBytes: 1_000_000_000)
                try await BrokerSetup.declare(on: connection, historyRetention: changed, logger: warnings.logger)
                let warning = try #require(warnings.lines.first { $0.contains(Topology.historyStream) })
                #expect(warning.contains("x-max-"), "names the refused argument: \(warning)")
                #expect(warning.contains(BrokerSetup.historyPolicyCommand(changed)), "names the policy: \(warning)")
                // The stream was kept, with its old retention and its events; the topology after it was declared.
                let listed = try await Self.listed(configuration.virtualHost, Topology.historyStream)
                #expect(listed.contains("7D") && !listed.contains("14D"), "\(listed)")
                #expect(try await Self.readFromTheStart(connection, count: 1).first?.bodyString == #"{"id":"kept"}"#)
                _ = try await connection.declare(AMQPQueue(Topology.unroutedQueue, kind: .quorum, passive: true))
                // The connection still works, and a redeclaration as it was still succeeds without a warning.
                let quiet = WarningCapture()
                try await BrokerSetup.declare(on: connection, logger: quiet.logger)
                #expect(quiet.lines.isEmpty, "\(quiet.lines)")
            }
        }
    }

    @Test func aQueueOfThatNameThatIsNotAStreamIsReportedByName() async throws {
        try await ToolsTestBroker.withVHost { configuration in
            try await ToolsTestBroker.withConnection(configuration) { connection in
                _ = try await connection.declare(AMQPQueue(Topology.historyStream, kind: .quorum))
                let error = await #expect(throws: PayBridgeToolError.self) {
                    try await BrokerSetup.declare(on: connection)
                }
                #expect(error?.message.contains("queue \(Topology.historyStream)") == true, "\(String(describing: error))")
                #expect(error?.message.contains("406") == true)
            }
        }
    }
}

/// The warnings a logger received, as text.
final class WarningCapture: Sendable {
    private let records = Mutex<[String]>([])

    var lines: [String] { records.withLock { $0 } }

    var logger: Logger {
        Logger(label: "capture") { _ in Handler(capture: self) }
    }

    private struct Handler: LogHandler {
        let capture: WarningCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .warning

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            capture.records.withLock { $0.append("\(event.message)") }
        }
    }
}
