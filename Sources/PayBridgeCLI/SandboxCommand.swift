import ArgumentParser
import Foundation

/// `paybridge sandbox`: stub until the adapter is wired (replaced in the adapter branch).
struct SandboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sandbox",
        abstract: "Run the Amanpay/FirstPay sandbox."
    )

    func run() async throws {
        FileHandle.standardError.write(Data("paybridge: 'paybridge sandbox' not yet wired\n".utf8))
        throw ExitCode.failure
    }
}
