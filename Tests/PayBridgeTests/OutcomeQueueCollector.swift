import AMQP

/// Collects outcome events from a durable queue of a test (bound to `payments.outcomes`) across broker restarts and
/// failovers: the tests that take a broker or a node down count their commands' outcomes with it.
enum OutcomeQueueCollector {
    /// Consumes `queue` until an event has arrived for every id (by `correlation_id`), bounded: 120 s, then what
    /// arrived. A consume that fails (the connection is reconnecting or failing over) is tried again shortly.
    static func collect(_ client: AMQPConnection, _ queue: String, commandIds: Set<String>) async throws
        -> Set<String>
    {
        var seen = Set<String>()
        let deadline = ContinuousClock.now + .seconds(120)
        while !seen.isSuperset(of: commandIds), ContinuousClock.now < deadline {
            do {
                let consumer = try await client.consume(queue: queue, prefetch: 500)
                let stop = Task {
                    try? await Task.sleep(until: deadline)
                    await consumer.cancel()  // ends the loop below when nothing more arrives
                }
                defer { stop.cancel() }
                for try await delivery in consumer {
                    try await delivery.ack()
                    if let id = delivery.properties.correlationId { seen.insert(id) }
                    if seen.isSuperset(of: commandIds) { break }
                }
                await consumer.cancel()
            } catch {
                try await Task.sleep(for: .milliseconds(200))
            }
        }
        return seen
    }
}
