import ArgumentParser
import Foundation
import PayBridge
import PayBridgeContract
import PayBridgeTools

/// `paybridge events`: the outcome events kept in the event history stream `payments.history`.
struct EventsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events",
        abstract: "Read outcome events back from the event history stream (payments.history).",
        subcommands: [EventsReplayCommand.self]
    )
}

/// `paybridge events replay --since <time> [--payment <id>] [--json] [--idle <d>] [--follow]`.
struct EventsReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Print the outcome events published since a time, from payments.history; nothing is removed.",
        discussion: """
            Reads the stream from --since (the broker starts at the storage chunk holding that time; events whose \
            CloudEvents time is earlier are left out) and ends by itself once it has caught up: at the first event \
            that happened after the replay started, or when no event arrived for --idle. With --follow it keeps \
            printing new events until interrupted. Without --json, one readable line per event; with --json, each \
            event body exactly as published, one per line (NDJSON). A summary goes to standard error; with --payment it \
            ends with the payment's status under the contract's status rule (docs/contract.md). Events older \
            than the stream's retention (PAYBRIDGE_HISTORY_MAX_AGE, default 7D) are gone.
            """
    )

    @Option(help: ArgumentHelp("Where to start: an RFC 3339 time (2026-12-06T10:00:00Z) or a duration back from now (90m, 24h, 7d).",
                               valueName: "time"))
    var since: String

    @Option(help: ArgumentHelp("Only events whose data.paymentId or data.providerPaymentId is this id.", valueName: "id"))
    var payment: String?

    @Flag(help: "Print each event body as received, one JSON document per line (NDJSON).")
    var json = false

    @Option(help: ArgumentHelp("End after no event arrived for this long (500ms, 2s, 1m; a bare number is seconds).",
                               valueName: "duration"))
    var idle = "2s"

    @Flag(help: "Keep reading new events after catching up, until interrupted.")
    var follow = false

    @Flag(name: .shortAndLong, help: "Log the AMQP client's debug output.")
    var verbose = false

    func validate() throws {
        do {
            let start = try HistoryReader.since(parsing: since)
            guard start <= Date() else {
                throw ValidationError("--since \(since) is in the future")
            }
            _ = try HistoryReader.idle(parsing: idle)
        } catch let error as HistoryReaderOptionError {
            throw ValidationError(error.message)
        }
        if let payment, payment.isEmpty || payment.utf8.count > 255 {
            throw ValidationError("--payment must be 1 to 255 bytes")
        }
    }

    func run() async throws {
        let options = HistoryReader.Options(since: try HistoryReader.since(parsing: since), paymentId: payment,
                                            idle: try HistoryReader.idle(parsing: idle), follow: follow)
        let json = self.json
        try await ToolConnection.run(tool: "events", verbose: verbose) { connection, logger in
            let reader = HistoryReader(connection: connection, options: options, logger: logger)
            let output = FileHandle.standardOutput
            var projection = PaymentStatusProjection()
            let summary = try await reader.read { event in
                if let cloudEvent = event.event { projection.apply(cloudEvent) }
                if json {
                    output.write(Data(event.body + [UInt8(ascii: "\n")]))
                } else {
                    output.write(Data((EventPrinter.line(event) + "\n").utf8))
                }
            }
            var note = "\(summary.matched) event(s) from \(reader.stream) since \(RFC3339.string(from: options.since))"
            note += options.paymentId.map { " for payment \($0)" } ?? ""
            note += " (\(summary.end.rawValue)"
            if summary.notCloudEvents > 0 { note += "; \(summary.notCloudEvents) non-CloudEvents message(s) skipped" }
            FileHandle.standardError.write(Data("paybridge: \(note))\n".utf8))
            if options.paymentId != nil {
                // What an order service applying the contract's status rule to these events holds.
                for (key, entry) in projection.payments.sorted(by: { $0.key.description < $1.key.description }) {
                    let line = "paybridge: status of \(key) under the contract's rule: \(entry.status.rawValue)"
                        + (entry.final ? " (final)" : "") + ", event \(entry.eventId)\n"
                    FileHandle.standardError.write(Data(line.utf8))
                }
            }
        }
    }
}
