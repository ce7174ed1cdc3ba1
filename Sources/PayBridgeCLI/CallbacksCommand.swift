import ArgumentParser
import PayBridge

/// `paybridge callbacks`: the HTTP endpoint for provider callbacks and postbacks.
struct CallbacksCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "callbacks",
        abstract: "Receive Amanpay callbacks and FirstPay postbacks, verify them and publish payment.callback.v1 events."
    )
    @OptionGroup var options: RuntimeOptions

    func run() async throws {
        try await RuntimeLauncher.run(role: .callbacks, options: options)
    }
}
