import Logging
@testable import PayBridge
import PayBridgeRules
import PayBridgeTestKit
import PayBridgeContract
import ProviderCore
import Synchronization
import Testing

/// values from outside go escaped into the plain-text log (``PlainTextLogHandler``, what `paybridge`
/// logs with), so a command id cannot forge a log line or a field.
@Suite struct PlainTextLogTests {
    typealias Fixtures = CommandDeliveryFixtures

    /// Every record the handler wrote, as written.
    final class Capture: Sendable {
        private let records = Mutex<[String]>([])
        var all: [String] { records.withLock { $0 } }

        func logger() -> Logger {
            var logger = Logger(label: "paybridge") { label in
                PlainTextLogHandler(label: label) { [self] line in records.withLock { $0.append(line) } }
            }
            logger.logLevel = .debug
            return logger
        }
    }

    /// What the forged line would say: a record of its own at level error, with a `level=error` field.
    static let forged = #"2026-11-18T11:06:40+0000 error paybridge: level=error paybridge.command_id=x [PayBridge] "#
        + "merchant key leaked"

    @Test func aCommandIdWithALineBreakAndAFakeLevelCannotForgeALogLine() async throws {
        let capture = Capture()
        let processor = CommandProcessor(
            executor: ScriptedCommandExecutor { throw Fixtures.failure(.invalidCommand, "INVALID_AMOUNT") },
            sink: RecordingOutcomeSink(), gate: OutcomeGate(readiness: Readiness()), metrics: PayBridgeMetrics(),
            maxAttempts: 3, outcomeRetry: OutcomeRetry(initialDelay: .milliseconds(1), maximumDelay: .milliseconds(4)),
            logger: capture.logger())
        // JSON escapes in the body: the command id holds a line feed, a carriage return and quotes.
        let id = #"cmd-1\n"# + Self.forged + #"\r\"quoted\" level=error"#
        #expect(await processor.process(Fixtures.delivery(Fixtures.body(.amanpayPurchase, id: id,
                                                                        data: Fixtures.purchaseData))) == .ack)

        let records = capture.all
        #expect(!records.isEmpty)
        let joined = records.joined()
        let lines = joined.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        #expect(lines.count == records.count, "one line per record: \(joined)")
        #expect(!joined.contains("\r"))
        for line in lines {
            #expect(!line.hasPrefix("2026-11-18T11:06:40+0000"), "a forged line: \(line)")
            #expect(line.contains(#" paybridge.command_id="cmd-1\n2026-11-18T11:06:40+0000 error paybridge: "#
                                  + #"level=error paybridge.command_id=x [PayBridge] merchant key leaked\r\"quoted\" "#
                                  + #"level=error" "#), "the whole id is one quoted value: \(line)")
        }
        // The fields of a line, read as logfmt, are PayBridge's own.
        let fields = try #require(lines.first.map { Self.logfmtKeys(String($0)) })
        #expect(!fields.contains("level"), "\(fields)")
        #expect(fields.filter { $0 == "paybridge.command_id" }.count == 1)
    }

    @Test func controlCharactersSeparatorsAndQuotesAreEscapedInValuesAndMessages() {
        let line = PlainTextLogHandler.line(
            time: "T", level: .info, label: "paybridge",
            metadata: ["amqp.routing_key": "a b", "id": "x\u{1B}[2Jy\u{2028}z", "plain": "abc-1.2_3", "empty": "",
                       "q": #"say "hi"\ "#],
            source: "PayBridge", message: "read\nfrom \u{85}outside")
        #expect(line == #"T info paybridge: amqp.routing_key="a b" empty="" id="x\u{1b}[2Jy\u{2028}z" plain=abc-1.2_3 "#
                    + #"q="say \"hi\"\\ " [PayBridge] read\nfrom \u{85}outside"# + "\n")
    }

    /// The keys of the `key=value` fields after the label, read as logfmt reads them (a quoted value ends at its
    /// first unescaped quote), up to the `[source]`.
    static func logfmtKeys(_ line: String) -> [String] {
        guard let afterLabel = line.range(of: " paybridge:")?.upperBound else { return [] }
        var keys: [String] = []
        var rest = line[afterLabel...].drop { $0 == " " }
        while let first = rest.first, first != "[" {
            let key = rest.prefix { $0 != "=" && $0 != " " }
            keys.append(String(key))
            rest = rest.dropFirst(key.count)
            if rest.first == "=" {
                rest = rest.dropFirst()
                if rest.first == "\"" {
                    rest = rest.dropFirst()
                    while let c = rest.first, c != "\"" { rest = rest.dropFirst(c == "\\" ? 2 : 1) }
                    rest = rest.dropFirst()
                } else {
                    rest = rest.drop { $0 != " " }
                }
            }
            rest = rest.drop { $0 == " " }
        }
        return keys
    }
}
