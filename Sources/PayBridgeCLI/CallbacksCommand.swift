import ArgumentParser
import Foundation

/// `paybridge callbacks`: stub until the adapter is wired (replaced in the adapter branch).
struct CallbacksCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "callbacks",
        abstract: "Serve the provider callback endpoint (POST /callbacks/amanpay, /callbacks/firstpay)."
    )

    func run() async throws {
        FileHandle.standardError.write(Data("paybridge: 'paybridge callbacks' not yet wired\n".utf8))
        throw ExitCode.failure
    }
}
