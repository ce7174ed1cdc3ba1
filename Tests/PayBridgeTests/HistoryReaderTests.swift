import AMQP
import BrokerTestKit
import Foundation
@testable import PayBridge
import PayBridgeContract
import PayBridgeTools
import Testing
import PayBridgeTopology

/// Reading `payments.history` back (`HistoryReader`, `paybridge events replay`) on a real broker.
@Suite(.timeLimit(.minutes(3)))
struct HistoryReaderTests {
    /// A `payment.response` event as PayBridge publishes it (compact JSON), for `paymentId`.
    static func event(_ id: String, time: Date, paymentId: String, providerPaymentId: String = "62861",
                      status: String = "succeeded") -> [UInt8] {
        Array("""
            {"specversion":"1.0","id":"\(id)","type":"\(OutcomeEvents.responseType)","source":"/tests/history",\
            "time":"\(RFC3339.string(from: time))","datacontenttype":"application/json","data":{"account":"default",\
            "provider":"amanpay","operation":"purchase","paymentId":"\(paymentId)",\
            "providerPaymentId":"\(providerPaymentId)","status":"\(status)","final":true}}
            """.utf8)
    }

    static func publish(_ connection: AMQPConnection, _ bodies: [[UInt8]],
                        routingKey: String = "amanpay.purchase.response") async throws {
        for body in bodies {
            try await connection.publish(body, exchange: Topology.outcomesExchange, routingKey: routingKey,
                                         mandatory: true,
                                         properties: AMQPProperties(contentType: Topology.contentType,
                                                                    persistent: true,
                                                                    timestamp: UInt64(Date().timeIntervalSince1970)))
        }
    }

    static func ids(_ events: [ReceivedEvent]) -> [String] { events.compactMap { $0.event?.id } }

    @Test func replaysWhatWasPublishedBeforeItStartedFromSinceOnAndEnds() async throws {
        try await ToolsTestBroker.withVHost { configuration in
            try await ToolsTestBroker.withConnection(configuration) { connection in
                try await BrokerSetup.declare(on: connection)
                let early = Date()
                try await Self.publish(connection, [Self.event("early-1", time: early, paymentId: "p1"),
                                                    Self.event("early-2", time: early, paymentId: "p2")])
                // The stream's offsets by time have whole-second resolution: start the second half in a later
                // second than the one the first half was confirmed in (this waits for the clock, not for an event).
                let since = Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down) + 1)
                try await Task.sleep(for: .seconds(since.timeIntervalSinceNow + 0.05))
                let now = Date()
                try await Self.publish(connection, [
                    // Written after `since`, but it happened before: left out by its CloudEvents time.
                    Self.event("late-but-older", time: since.addingTimeInterval(-0.5), paymentId: "p3"),
                    Self.event("late-1", time: now, paymentId: "p1"),
                    Self.event("late-2", time: now, paymentId: "p2"),
                ])
                let reader = HistoryReader(connection: connection,
                                           options: .init(since: since, idle: .milliseconds(500)))
                var events: [ReceivedEvent] = []
                let summary = try await reader.read { events.append($0) }
                #expect(Self.ids(events) == ["late-1", "late-2"])
                #expect(summary.delivered == 3, "the broker started at `since`: the first second was not read")
                #expect(summary.matched == 2)
                #expect(summary.end == .idle, "nothing newer: it ended after the idle interval")
                #expect(events.first?.routingKey == "amanpay.purchase.response")
                #expect(events.first?.body == Self.event("late-1", time: now, paymentId: "p1"), "the bytes published")
                // Read again from before everything: nothing was removed.
                let all = try await HistoryReader(connection: connection,
                                                  options: .init(since: early.addingTimeInterval(-60),
                                                                 idle: .milliseconds(500))).read()
                #expect(Self.ids(all) == ["early-1", "early-2", "late-but-older", "late-1", "late-2"])
            }
        }
    }

    @Test func keepsOnlyThePaymentAndStopsAtTheFirstEventFromAfterItsStart() async throws {
        try await ToolsTestBroker.withVHost { configuration in
            try await ToolsTestBroker.withConnection(configuration) { connection in
                try await BrokerSetup.declare(on: connection)
                let now = Date()
                try await Self.publish(connection, [
                    Self.event("a", time: now, paymentId: "order-1"),
                    Self.event("b", time: now, paymentId: "order-2", providerPaymentId: "order-1"),
                    Self.event("c", time: now, paymentId: "order-2", providerPaymentId: "77"),
                    // Happened after the reading starts: the reading ends here, without it.
                    Self.event("from-after-the-start", time: now.addingTimeInterval(3600), paymentId: "order-1"),
                    Self.event("d", time: now, paymentId: "order-1"),
                ])
                // An idle interval far longer than the reading takes: only catching up ends it this soon.
                let reader = HistoryReader(connection: connection,
                                           options: .init(since: now.addingTimeInterval(-60), paymentId: "order-1",
                                                          idle: .seconds(60)))
                let started = ContinuousClock.now
                var events: [ReceivedEvent] = []
                let summary = try await reader.read { events.append($0) }
                #expect(Self.ids(events) == ["a", "b"])
                #expect(summary.end == .caughtUp)
                #expect(ContinuousClock.now - started < .seconds(60))
                #expect(summary.delivered == 4)
            }
        }
    }

    @Test func followReadsNewEventsAsTheyArePublished() async throws {
        try await ToolsTestBroker.withVHost { configuration in
            try await ToolsTestBroker.withConnection(configuration) { connection in
                try await BrokerSetup.declare(on: connection)
                try await Self.publish(connection, [Self.event("before", time: Date(), paymentId: "p")])
                let reader = HistoryReader(connection: connection,
                                           options: .init(since: Date().addingTimeInterval(-60),
                                                          idle: .milliseconds(100), follow: true))
                var received: [String] = []
                for try await event in reader.events() {
                    received.append(event.event?.id ?? "?")
                    if received == ["before"] {
                        // Published after the reading started, and well after the idle interval: followed anyway.
                        try await Task.sleep(for: .milliseconds(300))
                        try await Self.publish(connection, [Self.event("after", time: Date(), paymentId: "p")])
                    }
                    if received.count == 2 { break }
                }
                #expect(received == ["before", "after"])
            }
        }
    }

    @Test func aReconnectDoesNotHandTheSameEventOutTwice() async throws {
        try await ToolsTestBroker.withVHost { configuration in
            try await ToolsTestBroker.withConnection(configuration) { connection in
                try await BrokerSetup.declare(on: connection)
                try await Self.publish(connection, [Self.event("r-1", time: Date(), paymentId: "p"),
                                                    Self.event("r-2", time: Date(), paymentId: "p")])
                let reader = HistoryReader(connection: connection,
                                           options: .init(since: Date().addingTimeInterval(-60), follow: true))
                var received: [String] = []
                for try await event in reader.events() {
                    received.append(event.event?.id ?? "?")
                    if received.count == 2 {
                        // The broker drops the connection: it recovers and resubscribes the consumer with the same
                        // arguments, so the stream is delivered again from `since`. The publish waits for the
                        // reconnect.
                        #expect(await ToolsTestBroker.rabbitmqctl("close_all_connections", "--vhost",
                                                                  configuration.virtualHost, "history test") == 0)
                        try await Self.publish(connection, [Self.event("r-3", time: Date(), paymentId: "p")])
                    }
                    if received.count == 3 { break }
                }
                #expect(received == ["r-1", "r-2", "r-3"])
            }
        }
    }

    @Test func aMissingStreamSaysToDeclareTheTopology() async throws {
        try await ToolsTestBroker.withVHost { configuration in
            try await ToolsTestBroker.withConnection(configuration) { connection in
                let reader = HistoryReader(connection: connection, options: .init(since: Date()))
                let error = await #expect(throws: PayBridgeToolError.self) { try await reader.read() }
                #expect(error?.message.contains("paybridge topology") == true, "\(String(describing: error))")
                #expect(error?.message.contains(Topology.historyStream) == true)
            }
        }
    }

    /// Runs `paybridge <arguments>` against `vhost`; returns its exit status, standard output and standard error.
    static func paybridge(_ arguments: [String], vhost: String) async throws -> (Int32, [UInt8], String) {
        let directory = FileManager.default.temporaryDirectory
        let out = directory.appendingPathComponent("replay-\(UUID().uuidString).out")
        let err = directory.appendingPathComponent("replay-\(UUID().uuidString).err")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        defer {
            try? FileManager.default.removeItem(at: out)
            try? FileManager.default.removeItem(at: err)
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: paybridgeExecutable)
        process.arguments = arguments
        process.environment = ["PAYBRIDGE_AMQP_URL": "\(EndToEnd.brokerBase())/\(vhost)"]
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        let status = try await ChildProcess.runToExit(process)
        return (status, Array(try Data(contentsOf: out)), try String(contentsOf: err, encoding: .utf8))
    }

    @Test func theCommandPrintsNDJSONOrOneLineAnEventAndEndsByItself() async throws {
        try await ToolsTestBroker.withVHost { configuration in
            let vhost = configuration.virtualHost
            try await ToolsTestBroker.withConnection(configuration) { connection in
                try await BrokerSetup.declare(on: connection)
                let now = Date()
                let mine = [Self.event("cli-1", time: now, paymentId: "order-9"),
                            Self.event("cli-2", time: now, paymentId: "x", providerPaymentId: "order-9")]
                try await Self.publish(connection, [mine[0], Self.event("cli-other", time: now, paymentId: "y"), mine[1]])

                let (status, json, log) = try await Self.paybridge(
                    ["events", "replay", "--since", "10m", "--payment", "order-9", "--json", "--idle", "500ms"],
                    vhost: vhost)
                #expect(status == 0, "\(log)")
                #expect(json == mine[0] + [UInt8(ascii: "\n")] + mine[1] + [UInt8(ascii: "\n")],
                        "the bodies as published, one a line: \(String(decoding: json, as: UTF8.self))")
                #expect(log.contains("2 event(s)"), "\(log)")
                #expect(log.contains("status of amanpay/default/order-9 under the contract's rule: succeeded (final), "
                                     + "event cli-1"), "the status rule applied to what was replayed: \(log)")

                let since = RFC3339.string(from: now.addingTimeInterval(-60))
                let (textStatus, text, _) = try await Self.paybridge(
                    ["events", "replay", "--since", since, "--idle", "1"], vhost: vhost)
                #expect(textStatus == 0)
                let lines = String(decoding: text, as: UTF8.self).split(separator: "\n")
                #expect(lines.count == 3, "\(lines)")
                #expect(lines.first?.contains("payment order-9 → provider 62861  status succeeded (final)  event cli-1")
                        == true, "\(lines)")

                try await connection.deleteQueue(Topology.historyStream)
                let (missingStatus, _, missing) = try await Self.paybridge(
                    ["events", "replay", "--since", "1h"], vhost: vhost)
                #expect(missingStatus == 1)
                #expect(missing.contains("paybridge topology"), "\(missing)")
                let (badStatus, _, bad) = try await Self.paybridge(["events", "replay", "--since", "1w"], vhost: vhost)
                #expect(badStatus != 0)
                #expect(bad.contains("RFC 3339"), "\(bad)")
            }
        }
    }

    @Test func aWorkerWhoseRetentionChangedStartsAndItsEventsCanBeReplayed() async throws {
        try await EndToEnd.run { world in
            // The world declared the stream with the default retention; this worker asks for another one.
            var configuration = try world.configuration()
            configuration.historyRetention = try HistoryRetention(maxAge: "30D")
            let started = Date()
            let paymentId = "history-\(UUID().uuidString.prefix(8))"
            let published = try await world.withPayBridge(configuration) { _ in
                let id = try await world.send(.amanpayPurchase, data: purchaseData(paymentId))
                return try await world.events.first(type: OutcomeEvents.responseType, commandId: id).event
            }
            let replayed = try await HistoryReader(
                connection: world.client,
                options: .init(since: started.addingTimeInterval(-1), paymentId: paymentId, idle: .milliseconds(500))
            ).read()
            // The response, and whatever else the world recorded for the payment (none is expected), as published.
            #expect(replayed.contains { $0.event == published })
            let recorded = Set(world.events.all.filter { $0.data["paymentId"]?.stringValue == paymentId }.map(\.event.id))
            let replayedIds = Set(replayed.compactMap { $0.event?.id })
            #expect(replayedIds.isSubset(of: recorded), "\(replayed.map(\.routingKey))")
        }
    }
}
