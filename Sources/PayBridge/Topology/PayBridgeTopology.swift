import AMQP
import PayBridgeContract

// Stand-in until the `tools` branch (full declarer + definitions export) is merged: same public entry point.
public enum PayBridgeTopology {
    public static func declare(on connection: AMQPConnection) async throws {
        for exchange in [Topology.commandsExchange, Topology.outcomesExchange] {
            try await connection.declare(AMQPExchange(exchange, type: .topic))
        }
        try await connection.declare(AMQPExchange(Topology.retryReturnExchange, type: .direct))
        try await connection.declare(AMQPExchange(Topology.deadLetterExchange, type: .fanout))
        try await connection.declare(AMQPQueue(Topology.deadLetterQueue, kind: .quorum))
        try await connection.bind(queue: Topology.deadLetterQueue, exchange: Topology.deadLetterExchange, routingKey: "")
        for provider in Provider.allCases {
            let queue = Topology.commandQueue(provider)
            try await connection.declare(AMQPQueue(
                queue, kind: .quorum, deadLetterExchange: Topology.deadLetterExchange,
                deliveryLimit: Topology.commandQueueDeliveryLimit,
                arguments: ["x-dead-letter-strategy": .string("at-least-once"), "x-overflow": .string("reject-publish")]))
            try await connection.bind(queue: queue, exchange: Topology.commandsExchange,
                                      routingKey: Topology.commandBindingKey(provider))
            try await connection.bind(queue: queue, exchange: Topology.retryReturnExchange,
                                      routingKey: Topology.retryReturnRoutingKey(provider))
            for (index, delay) in Topology.retryDelays.enumerated() {
                let milliseconds = Int(delay.components.seconds * 1000)
                try await connection.declare(AMQPQueue(
                    Topology.retryQueue(provider, stage: index + 1), kind: .quorum,
                    deadLetterExchange: Topology.retryReturnExchange,
                    deadLetterRoutingKey: Topology.retryReturnRoutingKey(provider),
                    messageTTLMilliseconds: milliseconds,
                    arguments: ["x-dead-letter-strategy": .string("at-least-once"), "x-overflow": .string("reject-publish")]))
            }
        }
    }
}
