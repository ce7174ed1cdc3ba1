import AMQP
import ServiceLifecycle

/// One broker connection as a `Service` of the runtime's group: while the group runs it reports the connection's
/// state to ``Readiness`` under its own name; when the group shuts down (or is cancelled) it closes the connection.
///
/// The runtime lists these before everything that uses the connections, so the group, which stops services in
/// reverse order, closes them last: after the workers drained and the listeners stopped.
struct BrokerConnectionService: Service {
    /// `publish` or `consume`: the name `/readyz` reports.
    let name: String
    let connection: AMQPConnection
    let readiness: Readiness

    func run() async throws {
        for await event in connection.events.cancelOnGracefulShutdown() {
            switch event {
            case .disconnected, .failed: readiness.setConnection(name, connected: false)
            case .reconnected: readiness.setConnection(name, connected: true)
            default: break
            }
        }
        await connection.close()
    }
}
