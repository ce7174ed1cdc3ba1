/// The consumers of the consuming channel, in subscription order, and the deliveries each has received in the
/// current pass over the socket.
///
/// A plain value: the I/O thread asks it what to do with each frame and hands the bursts it returns to the
/// consumers' sequences. `Sink` is where a consumer's deliveries go (a stream continuation in production),
/// `Delivery` what is handed over; tests use plain values for both.
struct ConsumerRegistry<Sink, Delivery> {
    /// What `basic.consume` needs, kept so the consumer can be resubscribed after a reconnect.
    struct Subscription: Equatable, Sendable {
        var tag: String
        var queue: String
        var prefetch: UInt16
        var arguments: AMQPTable
    }

    struct Consumer {
        var subscription: Subscription
        var sink: Sink
        /// Deliveries read in the current pass, handed over in one burst at its end.
        var pending: [Delivery] = []
    }

    /// One consumer's deliveries of a pass, to hand over in one `yield`.
    struct Burst {
        var sink: Sink
        var deliveries: [Delivery]
    }

    /// What to do with a delivery.
    enum DeliveryAction: Equatable, Sendable {
        /// Buffered for its consumer's next burst.
        case buffered
        /// For a consumer we no longer have (delivered after we cancelled it, before the broker saw the cancel):
        /// return it to its queue untouched, with `basic.nack` and requeue (``requeueSettlement``). Never
        /// `basic.reject`: PayBridge never rejects, and from RabbitMQ 4.3 a reject counts toward a quorum queue's
        /// delivery limit while a nack does not, so a cancel must not use up a command's deliveries.
        case requeueForUnknownConsumer
    }

    private var consumers: [String: Consumer] = [:]
    private var order: [String] = []
    private var tagsWithPending: [String] = []

    init() {}

    var isEmpty: Bool { consumers.isEmpty }
    /// The subscriptions in the order they were made: the order of resubscription.
    var subscriptions: [Subscription] { order.compactMap { consumers[$0]?.subscription } }

    /// `basic.consume` succeeded.
    mutating func subscribed(_ subscription: Subscription, sink: Sink) {
        if consumers[subscription.tag] == nil { order.append(subscription.tag) }
        consumers[subscription.tag] = Consumer(subscription: subscription, sink: sink)
    }

    /// `basic.deliver` for `tag`.
    mutating func delivered(_ delivery: Delivery, to tag: String) -> DeliveryAction {
        guard consumers[tag] != nil else { return .requeueForUnknownConsumer }
        if consumers[tag]!.pending.isEmpty { tagsWithPending.append(tag) }
        consumers[tag]!.pending.append(delivery)
        return .buffered
    }

    /// The end of a pass (or anything that must not overtake buffered deliveries): each consumer's burst.
    mutating func takeBursts() -> [Burst] {
        guard !tagsWithPending.isEmpty else { return [] }
        var bursts: [Burst] = []
        bursts.reserveCapacity(tagsWithPending.count)
        for tag in tagsWithPending {
            guard let consumer = consumers[tag], !consumer.pending.isEmpty else { continue }
            bursts.append(Burst(sink: consumer.sink, deliveries: consumer.pending))
            consumers[tag]!.pending.removeAll(keepingCapacity: true)
        }
        tagsWithPending.removeAll(keepingCapacity: true)
        return bursts
    }

    /// The consumer ended (cancelled by us or the broker, or its queue is gone): it is forgotten and returned, so
    /// its sequence can be finished. Take its bursts first: its buffered deliveries are dropped here.
    mutating func removed(tag: String) -> Consumer? {
        guard let consumer = consumers.removeValue(forKey: tag) else { return nil }
        order.removeAll { $0 == tag }
        tagsWithPending.removeAll { $0 == tag }
        return consumer
    }

    /// Every consumer, in subscription order, forgotten: the connection is closing or gave up.
    mutating func removeAll() -> [Consumer] {
        let all = order.compactMap { consumers[$0] }
        consumers.removeAll()
        order.removeAll()
        tagsWithPending.removeAll()
        return all
    }
}

extension ConsumerRegistry.Burst: Equatable where Sink: Equatable, Delivery: Equatable {}
extension ConsumerRegistry.Consumer: Equatable where Sink: Equatable, Delivery: Equatable {}
