@testable import AMQP
import Testing

/// Consumer bookkeeping without a broker: sinks are names, deliveries are numbers.
@Suite struct ConsumerRegistryTests {
    typealias Registry = ConsumerRegistry<String, Int>

    private func subscription(_ tag: String, queue: String = "q", prefetch: UInt16 = 10) -> Registry.Subscription {
        .init(tag: tag, queue: queue, prefetch: prefetch, arguments: [:])
    }

    @Test func deliveriesOfAPassAreHandedOverAsOneBurstPerConsumer() {
        var registry = Registry()
        registry.subscribed(subscription("a"), sink: "A")
        registry.subscribed(subscription("b"), sink: "B")
        #expect(registry.delivered(1, to: "b") == .buffered)
        #expect(registry.delivered(2, to: "a") == .buffered)
        #expect(registry.delivered(3, to: "b") == .buffered)
        #expect(registry.takeBursts() == [.init(sink: "B", deliveries: [1, 3]), .init(sink: "A", deliveries: [2])])
        #expect(registry.takeBursts() == [], "a burst is handed over once")
    }

    @Test func aDeliveryForAConsumerWeNoLongerHaveIsNackedBackToItsQueueNeverRejected() {
        var registry = Registry()
        #expect(registry.delivered(1, to: "gone") == .requeueForUnknownConsumer)
        registry.subscribed(subscription("a"), sink: "A")
        _ = registry.removed(tag: "a")
        #expect(registry.delivered(2, to: "a") == .requeueForUnknownConsumer, "delivered after a local cancel")
        // What the I/O thread sends for it: basic.nack with requeue (PayBridge never rejects; from RabbitMQ 4.3 a
        // reject counts toward a quorum queue's delivery limit).
        #expect(Registry.requeueSettlement == .nack(requeue: true))
    }

    @Test func resubscriptionKeepsTheOrderAndSettingsOfTheOriginalSubscriptions() {
        var registry = Registry()
        registry.subscribed(subscription("b", queue: "qb", prefetch: 5), sink: "B")
        registry.subscribed(subscription("a", queue: "qa", prefetch: 7), sink: "A")
        registry.subscribed(subscription("c"), sink: "C")
        _ = registry.removed(tag: "a")
        #expect(registry.subscriptions == [subscription("b", queue: "qb", prefetch: 5), subscription("c")])
    }

    @Test func aRemovedConsumerIsReturnedOnceWithItsSinkAndLeavesNoBurst() {
        var registry = Registry()
        registry.subscribed(subscription("a", queue: "qa"), sink: "A")
        _ = registry.delivered(1, to: "a")
        let removed = registry.removed(tag: "a")
        #expect(removed?.sink == "A" && removed?.subscription.queue == "qa")
        #expect(registry.removed(tag: "a") == nil)
        #expect(registry.takeBursts() == [])
        #expect(registry.isEmpty)
    }

    @Test func removeAllReturnsEveryConsumerInSubscriptionOrder() {
        var registry = Registry()
        registry.subscribed(subscription("b"), sink: "B")
        registry.subscribed(subscription("a"), sink: "A")
        #expect(registry.removeAll().map(\.sink) == ["B", "A"])
        #expect(registry.isEmpty && registry.subscriptions.isEmpty)
    }
}
