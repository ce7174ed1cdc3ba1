import ArgumentParser
import PayBridge

/// `paybridge run`: worker and callback endpoint in one process.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the worker and the callback endpoint in one process."
    )
    @OptionGroup var options: RuntimeOptions

    func run() async throws {
        try await RuntimeLauncher.run(role: .all, options: options)
    }
}
