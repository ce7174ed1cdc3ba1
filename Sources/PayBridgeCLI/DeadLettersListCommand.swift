import ArgumentParser
import PayBridge
import PayBridgeTools

/// `paybridge dead-letters list`: shows the dead letters with their reason, leaving them in the queue.
struct DeadLettersListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "Show the dead letters and why they are there; they stay in the queue.",
        discussion: """
            Shows PayBridge's reason headers (reason, code, detail, attempt, original routing key) and the \
            broker's x-death entries. Messages are read with manual acknowledgement and all returned afterwards.
            """
    )

    @Option(help: "The most dead letters to read (at most 65535).")
    var limit = 1000

    @Flag(help: "Print one JSON object per dead letter (with its body) instead of a summary.")
    var json = false

    @Flag(name: .shortAndLong, help: "Log the AMQP client's debug output.")
    var verbose = false

    func validate() throws {
        guard (1...65535).contains(limit) else { throw ValidationError("--limit must be 1...65535") }
    }

    func run() async throws {
        try await ToolConnection.run(tool: "dead-letters", verbose: verbose) { connection, logger in
            let inspector = DeadLetterInspector(connection: connection, logger: logger)
            let deadLetters = try await inspector.list(limit: limit)
            if json {
                for deadLetter in deadLetters { print(deadLetter.jsonValue.serializedString) }
                return
            }
            print("\(inspector.queue): \(deadLetters.count) dead letter(s)"
                + (deadLetters.count == limit ? " (limit reached; there may be more)" : ""))
            for (index, deadLetter) in deadLetters.enumerated() {
                print("\n" + EventPrinter.describe(deadLetter, index: index + 1))
            }
        }
    }
}
