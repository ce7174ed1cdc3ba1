@testable import AMQP
import Testing

/// What a reconnect declares again, without a broker.
@Suite struct TopologyRecordTests {
    @Test func declarationsAreRepeatedExchangesFirstThenQueuesThenBindings() {
        var record = TopologyRecord()
        let binding = AMQPBinding(queue: "q", exchange: "x", routingKey: "k")
        record.succeeded(.bind(binding))
        record.succeeded(.declareQueue(AMQPQueue("q")))
        record.succeeded(.declareExchange(AMQPExchange("x", type: .topic)))
        #expect(record.redeclarations == [.exchange(AMQPExchange("x", type: .topic)),
                                          .queue(AMQPQueue("q")), .binding(binding)])
    }

    @Test func passiveDeclarationsArePurgesAndRepeatsAreNotKeptTwice() {
        var record = TopologyRecord()
        record.succeeded(.declareQueue(AMQPQueue("q", passive: true)))
        record.succeeded(.declareExchange(AMQPExchange("x", type: .topic, passive: true)))
        record.succeeded(.purgeQueue("q"))
        #expect(record.redeclarations.isEmpty)
        let binding = AMQPBinding(queue: "q", exchange: "x", routingKey: "k")
        record.succeeded(.bind(binding))
        record.succeeded(.bind(binding))
        record.succeeded(.declareQueue(AMQPQueue("q")))
        record.succeeded(.declareQueue(AMQPQueue("q", durable: false)))
        #expect(record.redeclarations == [.queue(AMQPQueue("q", durable: false)), .binding(binding)],
                "the latest declaration of a name wins")
    }

    @Test func deletingAQueueOrExchangeForgetsItAndItsBindings() {
        var record = TopologyRecord()
        record.succeeded(.declareExchange(AMQPExchange("x", type: .topic)))
        record.succeeded(.declareQueue(AMQPQueue("q")))
        record.succeeded(.declareQueue(AMQPQueue("r")))
        record.succeeded(.bind(AMQPBinding(queue: "q", exchange: "x", routingKey: "k")))
        record.succeeded(.bind(AMQPBinding(queue: "r", exchange: "x", routingKey: "k")))
        record.succeeded(.deleteQueue("q"))
        #expect(record.redeclarations == [.exchange(AMQPExchange("x", type: .topic)),
                                          .queue(AMQPQueue("r")),
                                          .binding(AMQPBinding(queue: "r", exchange: "x", routingKey: "k"))])
        record.succeeded(.deleteExchange("x"))
        #expect(record.redeclarations == [.queue(AMQPQueue("r"))])
    }
}
