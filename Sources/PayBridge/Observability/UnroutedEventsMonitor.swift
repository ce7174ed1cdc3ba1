import AMQP
import Logging
import PayBridgeContract
import ServiceLifecycle

/// Keeps `paybridge_unrouted_events` at the number of events waiting in `payments.unrouted` (events published
/// while no queue was bound for their routing key), read from the broker every `interval`.
struct UnroutedEventsMonitor: Service {
    let connection: AMQPConnection
    let metrics: PayBridgeMetrics
    let interval: Duration
    let logger: Logger

    func run() async throws {
        let gauge = metrics.unroutedEvents
        // A graceful shutdown cancels the loop (and its sleep) at once.
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    let state = try await connection.declare(AMQPQueue(Topology.unroutedQueue, passive: true))
                    gauge.set(Double(state.messageCount))
                } catch {
                    // Not declared (a deployment from before it) or the broker is away: the gauge keeps its value.
                    logger.debug("could not read payments.unrouted", metadata: [PayBridgeLoggingKeys.error: "\(error)"])
                }
                try await Task.sleep(for: interval)
            }
        }
    }
}
