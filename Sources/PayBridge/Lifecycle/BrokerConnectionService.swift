import AMQP
import Logging
import ServiceLifecycle

/// One broker connection as a `Service` of the runtime's group: while the group runs it reports the connection's
/// state to ``Readiness`` under its own name (and, when the broker setting lists several nodes, the node it is on);
/// when the group shuts down (or is cancelled) it closes the connection.
///
/// The runtime lists these before everything that uses the connections, so the group, which stops services in
/// reverse order, closes them last: after the workers drained and the listeners stopped.
struct BrokerConnectionService: Service {
    /// `publish` or `consume`: the name `/readyz` reports.
    let name: String
    let connection: AMQPConnection
    let readiness: Readiness
    /// Logs the node the connection moved to, when there are several to move between.
    var logger: Logger? = nil

    /// Whether the connection has nodes to move between: only then do `/readyz` and the logs name its node.
    var namesNode: Bool { connection.configuration.nodes.count > 1 }

    func run() async throws {
        if namesNode { readiness.setNode(name, node: connection.currentNode) }
        for await event in connection.events.cancelOnGracefulShutdown() {
            switch event {
            case .disconnected, .failed: readiness.setConnection(name, connected: false)
            case .reconnected:
                if namesNode {
                    let node = connection.currentNode
                    readiness.setNode(name, node: node)
                    logger?.info("broker connection recovered", metadata: [
                        "amqp.connection": "\(name)", "amqp.node": "\(node)"])
                }
                readiness.setConnection(name, connected: true)
            default: break
            }
        }
        await connection.close()
    }
}
