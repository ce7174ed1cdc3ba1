import ArgumentParser

/// `paybridge`: the PayBridge adapter and its operator tools.
@main
struct PayBridgeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "paybridge",
        abstract: "Payment commands in over RabbitMQ, Amanpay/FirstPay over HTTP, CloudEvents out.",
        discussion: """
            The broker is PAYBRIDGE_AMQP_URL (default \(ToolConnection.defaultURL)): one URL, or a cluster's \
            nodes as comma-separated URLs (same vhost), tried in a shuffled order.
            """,
        subcommands: [
            WorkerCommand.self, CallbacksCommand.self, RunCommand.self, SandboxCommand.self,
            TopologyCommand.self, SendCommand.self, DeadLettersCommand.self, EventsCommand.self,
        ]
    )
}
