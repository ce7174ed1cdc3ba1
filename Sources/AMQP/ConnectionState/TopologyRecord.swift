/// The exchanges, queues and bindings declared through a connection, kept so a reconnect can declare them again.
///
/// Passive declarations check, they do not create, so they are not kept; deletions forget what they delete.
struct TopologyRecord: Equatable, Sendable {
    /// One declaration to repeat after a reconnect.
    enum Declaration: Equatable, Sendable {
        case exchange(AMQPExchange)
        case queue(AMQPQueue)
        case binding(AMQPBinding)
    }

    private(set) var exchanges: [AMQPExchange] = []
    private(set) var queues: [AMQPQueue] = []
    private(set) var bindings: [AMQPBinding] = []

    init() {}

    /// `operation` succeeded on the broker.
    mutating func succeeded(_ operation: TopologyOperation) {
        switch operation {
        case .declareExchange(let exchange):
            guard !exchange.passive else { return }
            exchanges.removeAll { $0.name == exchange.name }
            exchanges.append(exchange)
        case .deleteExchange(let name):
            exchanges.removeAll { $0.name == name }
            bindings.removeAll { $0.exchange == name }
        case .declareQueue(let queue):
            guard !queue.passive else { return }
            queues.removeAll { $0.name == queue.name }
            queues.append(queue)
        case .deleteQueue(let name):
            queues.removeAll { $0.name == name }
            bindings.removeAll { $0.queue == name }
        case .purgeQueue:
            return
        case .bind(let binding):
            if !bindings.contains(binding) { bindings.append(binding) }
        }
    }

    /// What a fresh connection declares, in order: exchanges, then queues, then the bindings between them.
    var redeclarations: [Declaration] {
        exchanges.map(Declaration.exchange) + queues.map(Declaration.queue) + bindings.map(Declaration.binding)
    }
}
