import ArgumentParser
import PayBridge
import PayBridgeContract
import PayBridgeTopology

/// `paybridge topology`: declares every exchange, queue and binding PayBridge uses (idempotent), or prints them as
/// a RabbitMQ definitions file.
struct TopologyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "topology",
        abstract: "Declare PayBridge's exchanges, queues and bindings on the broker (safe to repeat).",
        discussion: """
            With --print-definitions, nothing is declared: the topology is printed as a RabbitMQ definitions \
            file for `rabbitmqctl import_definitions` or the management UI. The reconciliation delay queues \
            follow PAYBRIDGE_RECONCILE_SCHEDULE and the event history stream payments.history \
            PAYBRIDGE_HISTORY_MAX_AGE (default 7D) and PAYBRIDGE_HISTORY_MAX_BYTES (default: no size limit), as \
            the workers' do. A history stream that exists with another retention is kept as it is, with a warning \
            naming the policy that changes it.
            """
    )

    @Flag(help: "Print the topology as a RabbitMQ definitions file instead of declaring it.")
    var printDefinitions = false

    @Option(help: "Virtual host named in the printed definitions (default: the one in PAYBRIDGE_AMQP_URL, else /).")
    var vhost: String?

    @Flag(name: .shortAndLong, help: "Log the AMQP client's debug output.")
    var verbose = false

    func run() async throws {
        // The reconciliation delay queues follow PAYBRIDGE_RECONCILE_SCHEDULE and the history stream's retention
        // PAYBRIDGE_HISTORY_MAX_AGE / _MAX_BYTES, as the workers' do.
        let schedule: ReconcileSchedule
        let retention: HistoryRetention
        do {
            let settings = EnvironmentSettings()
            schedule = try settings.reconcileSchedule() ?? .default
            retention = try settings.historyRetention()
        } catch {
            throw ValidationError("\(error)")
        }
        if printDefinitions {
            let vhost = self.vhost ?? (try? ToolConnection.configuration(tool: "topology"))?.configuration.virtualHost ?? "/"
            print(BrokerSetup.definitionsJSON(vhost: vhost, reconcileSchedule: schedule, historyRetention: retention),
                  terminator: "")
            return
        }
        try await ToolConnection.run(tool: "topology", verbose: verbose) { connection, logger in
            // Warnings (an existing declaration kept as it is) are shown even without --verbose.
            var warnings = logger
            if warnings.logLevel > .warning { warnings.logLevel = .warning }
            try await BrokerSetup.declare(on: connection, reconcileSchedule: schedule, historyRetention: retention,
                                          logger: warnings)
            let declarations = BrokerSetup.declarations(reconcileSchedule: schedule, historyRetention: retention)
            print("declared \(declarations.exchanges.count) exchanges, \(declarations.queues.count) queues and "
                + "\(declarations.bindings.count) bindings on \(connection.currentNode), "
                + "vhost \(connection.configuration.virtualHost)")
            for exchange in declarations.exchanges { print("  exchange  \(exchange.name) (\(exchange.type))") }
            for queue in declarations.queues {
                var details = [queue.kind.rawValue]
                if let ttl = queue.messageTTLMilliseconds { details.append("ttl \(ttl) ms") }
                if let dlx = queue.deadLetterExchange { details.append("dead-letters to \(dlx)") }
                if queue.kind == .stream { details.append(retention.description) }
                print("  queue     \(queue.name) (\(details.joined(separator: ", ")))")
            }
            for binding in declarations.bindings {
                print("  binding   \(binding.exchange) → \(binding.queue) key '\(binding.routingKey)'")
            }
        }
    }
}
