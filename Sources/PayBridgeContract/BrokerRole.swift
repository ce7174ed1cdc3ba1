/// The three broker users of a PayBridge deployment and exactly the permissions each needs on PayBridge's vhost
/// ("trust boundaries"). `deploy/rabbitmq-definitions.json` grants them (`paybridge topology
/// --print-definitions` writes them from here); the broker end-to-end tests run PayBridge, their producer and their
/// consumer under them, so a role that needs more than it is given fails a test. No role has `.*`.
///
/// RabbitMQ checks three regular expressions per user and vhost, against exchange and queue names alike:
/// `configure` (declare, delete), `write` (publish to an exchange; be the destination of a binding or of
/// dead-lettering) and `read` (consume from a queue; be the source exchange of a binding). Publishing to the default
/// exchange is checked against the name `amq.default`, which only `paybridge` is given, for one purpose: replies to
/// payment-methods queries go to the asker's direct reply-to name (`amq.rabbitmq.reply-to.…`), which the broker
/// reaches only through the default exchange. PayBridge answers no other `reply_to` (``PaymentMethodsQuery``), and
/// sends its own messages through ``Topology/internalExchange``.
public struct BrokerRole: Sendable, Equatable {
    /// The broker user name.
    public let user: String
    public let configure: String
    public let write: String
    public let read: String
    /// What the role is for, one line (docs and `--print-definitions` readers).
    public let purpose: String

    /// PayBridge itself (worker, callbacks, `paybridge topology`, `paybridge dead-letters`): declares everything
    /// named `payments.*`, reads its command queues (and binds to its exchanges), publishes events, dead letters
    /// and its own messages (``Topology/internalExchange``), and answers payment-methods queries through the
    /// default exchange (`amq.default`). It may not publish commands: `payments.commands` is the one `payments.*`
    /// name missing from `write`.
    public static let paybridge = BrokerRole(
        user: "paybridge",
        configure: #"^payments\."#,
        write: #"^(payments\.(internal|outcomes|unrouted|dead-letter|dead|history|amanpay|firstpay|retry\..+|reconcile\..+)|amq\.default)$"#,
        read: #"^payments\."#,
        purpose: "the PayBridge service and its operator tools: declares payments.*, consumes its command queues, "
            + "publishes events, dead letters and its own messages (payments.internal), answers queries through the "
            + "default exchange (amq.default) to direct reply-to names only; never commands")

    /// An order service that sends commands: publishes to `payments.commands` and nothing else (no declare, no
    /// read, no default exchange, no `payments.internal`).
    public static let producer = BrokerRole(
        user: "payments-producer",
        configure: "^$",
        write: #"^payments\.commands$"#,
        read: "^$",
        purpose: "an order service sending commands: publishes to payments.commands only")

    /// An order service that reads events: declares its own queues named `consumer.*`, binds them to
    /// `payments.outcomes`, reads them and the history stream `payments.history`. It publishes nowhere PayBridge
    /// or a producer reads: its `write` covers only `consumer.*` names (a queue must be writable to be bound).
    public static let consumer = BrokerRole(
        user: "payments-consumer",
        configure: #"^consumer\."#,
        write: #"^consumer\."#,
        read: #"^(consumer\..+|payments\.outcomes|payments\.history)$"#,
        purpose: "an order service reading events: its own consumer.* queues bound to payments.outcomes, and the "
            + "history stream payments.history")

    /// The three roles, in the order the definitions file lists them.
    public static let all: [BrokerRole] = [.paybridge, .producer, .consumer]
}
