import ArgumentParser
import Foundation

/// `paybridge run`: stub until the adapter is wired (replaced in the adapter branch).
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the worker and the callback endpoint in one process."
    )

    func run() async throws {
        FileHandle.standardError.write(Data("paybridge: 'paybridge run' not yet wired\n".utf8))
        throw ExitCode.failure
    }
}
