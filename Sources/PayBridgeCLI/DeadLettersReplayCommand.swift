import ArgumentParser
import PayBridge
import PayBridgeContract
import PayBridgeTools

/// `paybridge dead-letters replay`: republishes dead letters to their command queue through `payments.internal`
/// (PayBridge's own route: run it with the `paybridge` role) with their original routing key and a reset attempt
/// counter, removing each from the dead-letter queue once the broker confirmed the copy.
struct DeadLettersReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Send dead letters back to payments.commands (all, or by command id).",
        discussion: """
            Each replayed command keeps its body, id and properties; the attempt and dead-letter headers are \
            removed, so the worker starts it afresh (its idempotency rules still apply). A dead letter leaves \
            the queue only after the broker confirmed its copy. Exit status 1 when a selected one could not be \
            replayed or an --id was not found.
            """
    )

    @Flag(help: "Replay every dead letter.")
    var all = false

    @Option(name: .customLong("id"), help: "Replay the dead letter with this command id (message_id); repeatable.")
    var ids: [String] = []

    @Option(help: "The most dead letters to read (at most 65535).")
    var limit = 1000

    @Flag(name: .shortAndLong, help: "Log the AMQP client's debug output.")
    var verbose = false

    func validate() throws {
        guard all != !ids.isEmpty else { throw ValidationError("pass either --all or at least one --id") }
        guard (1...65535).contains(limit) else { throw ValidationError("--limit must be 1...65535") }
    }

    func run() async throws {
        let problems = try await ToolConnection.run(tool: "dead-letters", verbose: verbose) {
            connection, logger -> Int in
            let inspector = DeadLetterInspector(connection: connection, logger: logger)
            let report = try await inspector.replay(all ? .all : .ids(Set(ids)), limit: limit)
            for (deadLetter, routingKey) in report.replayed {
                print("replayed \(deadLetter.id ?? "(no id)") → \(Topology.commandQueue(for: routingKey) ?? routingKey) as \(routingKey)")
            }
            for (deadLetter, reason) in report.failed {
                print("kept     \(deadLetter.id ?? "(no id)"): \(reason)")
            }
            for id in report.notFound { print("missing  \(id): not in \(inspector.queue)") }
            print("\(report.replayed.count) replayed, \(report.failed.count) kept, \(report.notFound.count) not found")
            return report.failed.count + report.notFound.count
        }
        if problems > 0 { throw ExitCode.failure }
    }
}
