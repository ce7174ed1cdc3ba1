import AMQP
import PayBridgeRules

extension CommandDelivery {
    /// The delivery's values; the `AMQPDelivery` itself stays with the worker, which settles it.
    package init(_ delivery: AMQPDelivery, trustDefaultExchange: Bool = false) {
        self.init(body: delivery.body, properties: delivery.properties, routingKey: delivery.routingKey,
                  redelivered: delivery.redelivered, deliveryTag: delivery.deliveryTag, exchange: delivery.exchange,
                  trustDefaultExchange: trustDefaultExchange)
    }
}
