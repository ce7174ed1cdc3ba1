import ArgumentParser
import Foundation

/// `paybridge worker`: stub until the adapter is wired (replaced in the adapter branch).
struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Consume payment commands and execute them against the providers."
    )

    func run() async throws {
        FileHandle.standardError.write(Data("paybridge: 'paybridge worker' not yet wired\n".utf8))
        throw ExitCode.failure
    }
}
