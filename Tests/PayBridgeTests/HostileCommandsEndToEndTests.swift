import AMQP
import Foundation
@testable import PayBridge
import PayBridgeRules
import PayBridgeContract
import ProviderSandbox
import Testing

/// A real `paybridge worker` process takes a batch of hostile commands (oversized, deeply nested, malformed,
/// header-poisoned) mixed with valid ones: it stays up, every valid command gets its event, and every
/// other one is in `payments.dead`, byte for byte, with PayBridge's reason.
@Suite(.timeLimit(.minutes(4))) struct HostileCommandsEndToEndTests {
    struct Hostile: Sendable {
        var name: String
        var body: [UInt8]
        var headers: AMQPTable?
        /// `x-paybridge-dead-letter-code` PayBridge must give it; `nil`: it is an ordinary command once PayBridge
        /// ignored what was hostile about it, and gets its `payment.response` (its id is the message id).
        var code: String?
    }

    static func envelope(id: String, datacontenttype: String = "application/json", data: String) -> String {
        #"{"specversion":"1.0","id":"\#(id)","type":"paybridge.amanpay.purchase.v1","source":"/tests/hostile","#
            + #""time":"2026-11-21T06:00:00Z","datacontenttype":"\#(datacontenttype)","data":\#(data)}"#
    }

    static func purchase(_ paymentId: String, amount: String = "250.50") -> String {
        #"{"paymentId":"\#(paymentId)","amount":"\#(amount)","currency":"BDT","customerEmail":"c@example.com"}"#
    }

    /// `text`'s UTF-8 with `marker` replaced by raw `bytes` (which need not be UTF-8).
    static func replacing(_ marker: String, with bytes: [UInt8], in text: String) -> [UInt8] {
        let parts = text.components(separatedBy: marker)
        return Array(parts[0].utf8) + bytes + Array(parts[1...].joined(separator: marker).utf8)
    }

    /// Nests a table `depth` levels deep under one header.
    static func nestedTable(depth: Int) -> AMQPTable {
        var value = AMQPFieldValue.string("bottom")
        for _ in 0..<depth { value = .table(["n": value]) }
        return ["x-nested": value]
    }

    /// A valid purchase whose command id and payment id are `id`.
    static func ownCommand(_ id: String) -> [UInt8] { Array(envelope(id: id, data: purchase(id)).utf8) }

    static func hostileCommands() -> [Hostile] {
        let valid = Array(envelope(id: "hostile-headers", data: purchase("hostile-headers")).utf8)
        var list: [Hostile] = [
            // The matcher recursed per character and overflowed the stack (SIGSEGV).
            Hostile(name: "50,000-character datacontenttype", body: Array(envelope(
                id: "hostile-dct", datacontenttype: "application/json;" + String(repeating: "a", count: 50_000),
                data: purchase("hostile-dct")).utf8), code: "SCHEMA_VIOLATION"),
            // The same matcher, reached through the amount's pattern; now refused by maxLength first.
            Hostile(name: "60,000-digit amount", body: Array(envelope(
                id: "hostile-amount", data: purchase("hostile-amount", amount: String(repeating: "1", count: 60_000))
            ).utf8), code: "SCHEMA_VIOLATION"),
            Hostile(name: "200,000-character string", body: Array(envelope(
                id: "hostile-string", data: purchase("hostile-string", amount: String(repeating: "1", count: 200_000))
            ).utf8), code: "BAD_JSON"),
            // A second per walk of the number; now past the body cap before any parsing.
            Hostile(name: "300,000-digit number", body: Array(envelope(
                id: "hostile-number", data: #"{"n":"# + String(repeating: "7", count: 300_000) + "}").utf8),
                code: "COMMAND_TOO_LARGE"),
            Hostile(name: "100,000-digit number under the body cap", body: Array(envelope(
                id: "hostile-number-2", data: #"{"n":"# + String(repeating: "7", count: 100_000) + "}").utf8),
                code: "BAD_JSON"),
            Hostile(name: "1 MB body", body: [UInt8](repeating: UInt8(ascii: " "), count: 1 << 20) + valid,
                    code: "COMMAND_TOO_LARGE"),
            Hostile(name: "JSON nested 100,000 deep", body: Array((String(repeating: "[", count: 100_000)
                + String(repeating: "]", count: 100_000)).utf8), code: "BAD_JSON"),
            Hostile(name: "invalid UTF-8", body: Self.replacing("PLACEHOLDER", with: [0x70, 0xC0, 0xAF, 0xFF],
                                                                 in: envelope(id: "hostile-utf8",
                                                                              data: purchase("PLACEHOLDER"))),
                    code: "BAD_JSON"),
            Hostile(name: "lone surrogate", body: Array(envelope(id: "hostile-surrogate",
                                                               data: purchase(#"p\ud800"#)).utf8), code: "BAD_JSON"),
            Hostile(name: "duplicate keys", body: Array(envelope(id: "hostile-dup",
                data: #"{"paymentId":"a","paymentId":"b","amount":"1.00","currency":"BDT","customerEmail":"c@example.com"}"#
            ).utf8), code: "BAD_JSON"),
            Hostile(name: "empty body", body: [], code: "BAD_JSON"),
            // Int32(attempt) trapped (SIGILL) in the dead-letter path. Since producers may no longer impersonate, PayBridge's own headers count
            // only on its own route: from a producer they are ignored, and the command runs as sent (the unit tests
            // of CommandHeaders keep the hostile values on PayBridge's route).
            Hostile(name: "attempt 3,000,000,000", body: ownCommand("hostile-hdr-1"),
                    headers: [Topology.Headers.attempt: .int64(3_000_000_000)], code: nil),
            Hostile(name: "attempt UInt32.max", body: ownCommand("hostile-hdr-2"),
                    headers: [Topology.Headers.attempt: .uint32(.max)], code: nil),
            Hostile(name: "attempt -1", body: ownCommand("hostile-hdr-3"),
                    headers: [Topology.Headers.attempt: .int32(-1)], code: nil),
            Hostile(name: "attempt as text", body: ownCommand("hostile-hdr-4"),
                    headers: [Topology.Headers.attempt: .string("2")], code: nil),
            Hostile(name: "300-byte original routing key", body: ownCommand("hostile-hdr-5"),
                    headers: [Topology.Headers.originalRoutingKey: .string(String(repeating: "k", count: 300))],
                    code: nil),
            Hostile(name: "headers nested 2,000 deep", body: valid, headers: nestedTable(depth: 2_000),
                    code: "HEADERS_TOO_DEEP"),
        ]
        for (index, _) in list.enumerated() { list[index].name = "#\(index) " + list[index].name }
        return list
    }

    @Test func aWorkerProcessSurvivesHostileCommandsAndSettlesEveryOne() async throws {
        try await EndToEnd.run { world in
            let worker = try startWorkerProcess(world, prefetch: 20)
            defer { if worker.isRunning { worker.terminate() } }
            let pid = worker.processIdentifier
            let hostile = Self.hostileCommands()
            let refused = hostile.filter { $0.code != nil }
            var validIds: [String] = []
            for (index, command) in hostile.enumerated() {
                try await world.sendRaw(command.body, routingKey: "amanpay.purchase",
                                        messageId: "hostile-\(index)", headers: command.headers)
                if command.code == nil, let id = try? CloudEvent.parse(command.body).id { validIds.append(id) }
                let id = "valid-\(index)-\(UUID().uuidString.prefix(6))"
                try await world.sendRaw(Array(Self.envelope(id: id, data: Self.purchase("pay-\(id)")).utf8),
                                        routingKey: "amanpay.purchase", messageId: id)
                validIds.append(id)
            }
            let expected = validIds
            try await world.events.wait(timeout: .seconds(90)) { events in
                let answered = Set(events.filter { $0.event.type == OutcomeEvents.responseType }.compactMap(\.commandId))
                return expected.allSatisfy(answered.contains)
            }
            let dead = try await deadLetters(world, count: refused.count)
            #expect(worker.isRunning && worker.processIdentifier == pid, "the same worker process is still up")
            #expect(dead.count == refused.count)
            for (index, command) in hostile.enumerated() where command.code != nil {
                let letter = dead.first { $0.properties.messageId == "hostile-\(index)" }
                guard let letter else {
                    Issue.record("\(command.name): not in payments.dead")
                    continue
                }
                let headers = letter.properties.headers
                #expect(headers?[Topology.Headers.deadLetterReason]?.stringValue == "invalid_command", "\(command.name)")
                #expect(headers?[Topology.Headers.deadLetterCode]?.stringValue == command.code,
                        "\(command.name): \(headers?[Topology.Headers.deadLetterDetail]?.stringValue ?? "-")")
                #expect(letter.body == command.body, "\(command.name): the exact bytes received")
            }
            let failed = world.events.all.filter { $0.event.type == OutcomeEvents.commandFailedType }
            #expect(failed.count >= refused.count, "a command.failed event for each")
            #expect(failed.allSatisfy { $0.schemaErrors.isEmpty })
            // And it still drains and exits cleanly.
            worker.terminate()
            worker.waitUntilExit()
            #expect(worker.terminationStatus == 0)
        }
    }

    // MARK: - Nothing PayBridge forwards can jam it

    /// Headers under `keys` whose values take what is left of one 128 KiB frame once the properties `sendRaw`
    /// publishes with (and `slack` bytes) are counted: the broker delivers them, and anything PayBridge added to them
    /// would no longer fit.
    static func nearlyFillingTheFrame(keys: [String], messageId: String, slack: Int = 64) -> AMQPTable {
        var properties = AMQPProperties(contentType: "application/cloudevents+json",
                                        headers: AMQPTable(keys.map { ($0, AMQPFieldValue.string("")) }),
                                        persistent: true, messageId: messageId)
        let room = AMQPProperties.maximumEncodedBytes(frameMax: 131_072) - slack - properties.encodedByteCount
        properties.headers = AMQPTable(keys.enumerated().map { index, key in
            let share = room / keys.count + (index == 0 ? room % keys.count : 0)
            return (key, AMQPFieldValue.string(String(repeating: "h", count: share)))
        })
        precondition(properties.encodedByteCount == AMQPProperties.maximumEncodedBytes(frameMax: 131_072) - slack)
        return properties.headers!
    }

    /// Publishes a valid purchase and waits for its `payment.response`: the outcome gate is open.
    static func aValidCommandIsAnswered(_ world: EndToEnd, _ name: String) async throws {
        let id = "\(name)-\(UUID().uuidString.prefix(6))"
        try await world.sendRaw(Array(envelope(id: id, data: purchase("pay-\(id)")).utf8), routingKey: "amanpay.purchase",
                                messageId: id)
        _ = try await world.events.first(type: OutcomeEvents.responseType, commandId: id, timeout: .seconds(30))
    }

    /// The report: an invalid command whose own headers nearly fill the frame was delivered; PayBridge added its
    /// dead-letter headers, librabbitmq refused them after the method frame was sent, and the publish connection
    /// was torn down and the dead letter retried forever, with the outcome gate closed. Now the producer's headers
    /// over the limits are dropped (and named), the dead letter goes, and the next command is answered.
    @Test func anInvalidCommandWhoseHeadersNearlyFillTheFrameIsDeadLetteredAndJamsNothing() async throws {
        try await EndToEnd.run { world in
            try await world.withPayBridge { _ in
                let headers = Self.nearlyFillingTheFrame(keys: ["x-filler"], messageId: "frame-filler")
                let body = Array("{not json".utf8)
                try await world.sendRaw(body, routingKey: "amanpay.purchase", messageId: "frame-filler",
                                        headers: headers)
                try await Self.aValidCommandIsAnswered(world, "after-frame-filler")
                let dead = try #require(try await deadLetters(world, count: 1).first)
                #expect(dead.properties.messageId == "frame-filler")
                #expect(dead.body == body)
                let deadHeaders = dead.properties.headers ?? [:]
                #expect(deadHeaders[Topology.Headers.deadLetterReason]?.stringValue == "invalid_command")
                #expect(deadHeaders[Topology.Headers.deadLetterCode]?.stringValue == "BAD_JSON")
                #expect(deadHeaders["x-filler"] == nil, "the producer's oversized header is not forwarded")
                let record = deadHeaders[Topology.Headers.droppedHeaders]?.stringValue ?? ""
                #expect(record.hasPrefix("1 header, ") && record.hasSuffix(": x-filler"), "\(record)")
            }
        }
    }

    /// The report's second case: an ordinary command with two long keys of combining marks ("a" and 127 U+0301: one
    /// character, 255 bytes, the most an AMQP key holds) whose values nearly fill the frame. Its create fails at the
    /// provider and, with no attempt left, it is dead-lettered; the keys are over PayBridge's key limit in bytes
    /// whatever their length in characters, so both are dropped and named, and the next command is answered.
    @Test func anOrdinaryCommandWithLongCombiningMarkKeysIsDeadLetteredAndJamsNothing() async throws {
        try await EndToEnd.run { world in
            try await world.withPayBridge(try world.configuration(maxAttempts: 1)) { _ in
                let keys = ["a", "b"].map { $0 + String(repeating: "\u{0301}", count: 127) }
                #expect(keys.allSatisfy { $0.count == 1 && $0.utf8.count == 255 })
                let id = "combining-\(UUID().uuidString.prefix(6))"
                world.sandbox.addFault(SandboxFault(provider: "amanpay", operation: "purchase", paymentId: "pay-\(id)",
                                                    httpStatus: 503))
                let body = Array(Self.envelope(id: id, data: Self.purchase("pay-\(id)")).utf8)
                try await world.sendRaw(body, routingKey: "amanpay.purchase", messageId: id,
                                        headers: Self.nearlyFillingTheFrame(keys: keys, messageId: id))
                _ = try await world.events.first(type: OutcomeEvents.commandFailedType, commandId: id,
                                                 timeout: .seconds(30))
                try await Self.aValidCommandIsAnswered(world, "after-combining")
                let dead = try #require(try await deadLetters(world, count: 1).first)
                #expect(dead.properties.messageId == id)
                #expect(dead.body == body)
                let deadHeaders = dead.properties.headers ?? [:]
                #expect(deadHeaders[Topology.Headers.deadLetterReason]?.stringValue == "retries_exhausted")
                #expect(keys.allSatisfy { deadHeaders[$0] == nil })
                let record = deadHeaders[Topology.Headers.droppedHeaders]?.stringValue ?? ""
                #expect(record.hasPrefix("2 headers, ") && keys.allSatisfy(record.contains), "\(record)")
            }
        }
    }
}
