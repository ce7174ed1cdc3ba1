/// Metadata keys used in the AMQP client's log lines.
public enum AMQPLoggingKeys {
    public static let endpoint = "amqp.endpoint"
    public static let connectionName = "amqp.connection_name"
    public static let queue = "amqp.queue"
    public static let consumerTag = "amqp.consumer_tag"
    public static let deliveryTag = "amqp.delivery_tag"
}
