import ArgumentParser
import Foundation

/// `paybridge sandbox`: runs the provider sandbox (`paybridge-sandbox`, built beside this executable).
struct SandboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sandbox",
        abstract: "Run the Amanpay/FirstPay provider sandbox (TEST KEYS ONLY); configured by PAYBRIDGE_SANDBOX_* variables."
    )

    func run() async throws {
        let directory = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            .deletingLastPathComponent()
        let sandbox = directory.appendingPathComponent("paybridge-sandbox").path
        guard FileManager.default.isExecutableFile(atPath: sandbox) else {
            FileHandle.standardError.write(Data(
                "paybridge: \(sandbox) not found; build it with `swift build --product paybridge-sandbox`\n".utf8))
            throw ExitCode.failure
        }
        // Replace this process, so signals reach the sandbox directly.
        let arguments: [UnsafeMutablePointer<CChar>?] = [strdup(sandbox), nil]
        execv(sandbox, arguments)
        FileHandle.standardError.write(Data("paybridge: cannot start \(sandbox)\n".utf8))
        throw ExitCode.failure
    }
}
