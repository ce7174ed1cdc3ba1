import ArgumentParser

/// `paybridge dead-letters`: inspect and re-drive the dead-letter queue `payments.dead`.
struct DeadLettersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dead-letters",
        abstract: "Inspect and replay the dead-letter queue (payments.dead).",
        subcommands: [DeadLettersListCommand.self, DeadLettersReplayCommand.self],
        defaultSubcommand: DeadLettersListCommand.self
    )
}
