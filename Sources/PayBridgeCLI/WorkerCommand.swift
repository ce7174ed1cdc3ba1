import ArgumentParser
import PayBridge

/// `paybridge worker`: consume the provider command queues and execute the commands.
struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Consume payment commands and execute them against the providers (plus the admin port: health, metrics)."
    )
    @OptionGroup var options: RuntimeOptions

    func run() async throws {
        try await RuntimeLauncher.run(role: .worker, options: options)
    }
}
