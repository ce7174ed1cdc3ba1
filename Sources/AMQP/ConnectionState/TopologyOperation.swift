/// A topology call a caller asked the connection for.
enum TopologyOperation: Equatable, Sendable {
    case declareExchange(AMQPExchange)
    case deleteExchange(String)
    case declareQueue(AMQPQueue)
    case deleteQueue(String)
    case purgeQueue(String)
    case bind(AMQPBinding)
}
