public import AMQP
import Foundation
public import Logging
public import PayBridgeContract
import PaymentVocabulary

/// Everything PayBridge needs on the broker, built from the names in ``Topology`` (see docs/wire.md,
/// "Broker names"): the exchanges, the per-provider quorum command queues, the retry and reconciliation delay
/// queues, the event history stream, the dead-letter queue and their bindings.
///
/// The same description feeds three consumers, so they cannot drift apart:
/// - ``declare(on:retryDelays:reconcileSchedule:historyRetention:logger:)`` declares it over AMQP (idempotent:
///   declaring an existing, identical topology is a no-op);
/// - ``definitionsJSON(vhost:retryDelays:reconcileSchedule:historyRetention:)`` writes it as a RabbitMQ definitions
///   file, for operators who provision brokers with `rabbitmqctl import_definitions` or the management UI;
/// - the worker and the tools, which only use the names.
public enum BrokerSetup {
    /// The exchanges, queues and bindings, in declaration order (exchanges first, then queues, then bindings).
    /// `exchanges`: `payments.commands`, `payments.outcomes`, `payments.unrouted`, `payments.retry.return`,
    /// `payments.dead-letter`, `payments.internal`;
    /// `queues`: the command queues, the retry and reconciliation delay queues (per provider, per stage or delay),
    /// the stream `payments.history`, `payments.dead` and `payments.unrouted`;
    /// `bindings`: `<provider>.*` and `<provider>` bindings of the command queues, each command and delay queue's
    /// binding to `payments.internal` by its own name, `payments.dead`'s and
    /// `payments.unrouted`'s, and `payments.history`'s (`#` on `payments.outcomes`).
    public typealias Declarations = (exchanges: [AMQPExchange], queues: [AMQPQueue], bindings: [AMQPBinding])

    /// The topology.
    /// - Parameter retryDelays: the TTL of each retry stage, stage 1 first. Default ``Topology/retryDelays``
    ///   (5 s, 30 s, 2 min, 10 min, 30 min). Tests pass shorter delays; production must keep the default count,
    ///   because the worker addresses stages through ``Topology/retryQueue(_:stage:)``, which clamps to
    ///   `Topology.retryDelays.count`. Each delay is rounded down to whole milliseconds (at least 1).
    /// - Returns: exchanges, queues and bindings in the order they must be declared.
    /// - Precondition: `retryDelays` has 1 ... `Topology.retryDelays.count` stages.
    /// - Parameter reconcileSchedule: the reconciliation schedule whose delay queues to declare (one per provider
    ///   and distinct delay, ``Topology/reconcileQueue(_:delayMilliseconds:)``); default
    ///   ``ReconcileSchedule/default``. Queues of other schedules are left alone.
    /// - Parameter historyRetention: the retention arguments of ``Topology/historyStream``; default
    ///   ``HistoryRetention/default`` (7 days, no size limit).
    public static func declarations(retryDelays: [Duration] = Topology.retryDelays,
                                    reconcileSchedule: ReconcileSchedule = .default,
                                    historyRetention: HistoryRetention = .default) -> Declarations {
        precondition((1...Topology.retryDelays.count).contains(retryDelays.count),
                     "retryDelays must have 1...\(Topology.retryDelays.count) stages")
        let exchanges = [
            AMQPExchange(Topology.commandsExchange, type: .topic),
            AMQPExchange(Topology.unroutedExchange, type: .fanout),
            outcomesExchange,
            AMQPExchange(Topology.retryReturnExchange, type: .direct),
            AMQPExchange(Topology.deadLetterExchange, type: .fanout),
            AMQPExchange(Topology.internalExchange, type: .direct),
        ]
        var queues: [AMQPQueue] = []
        var bindings: [AMQPBinding] = []
        for provider in Provider.allCases {
            queues.append(commandQueue(provider))
            bindings.append(AMQPBinding(queue: Topology.commandQueue(provider), exchange: Topology.commandsExchange,
                                        routingKey: Topology.commandBindingKey(provider)))
            bindings.append(AMQPBinding(queue: Topology.commandQueue(provider), exchange: Topology.retryReturnExchange,
                                        routingKey: Topology.retryReturnRoutingKey(provider)))
            bindings.append(internalBinding(Topology.commandQueue(provider)))
        }
        for provider in Provider.allCases {
            for (index, delay) in retryDelays.enumerated() {
                queues.append(retryQueue(provider, stage: index + 1, delay: delay))
                bindings.append(internalBinding(Topology.retryQueue(provider, stage: index + 1)))
            }
            for delay in reconcileSchedule.distinctDelaysMilliseconds {
                queues.append(reconcileQueue(provider, delayMilliseconds: delay))
                bindings.append(internalBinding(Topology.reconcileQueue(provider, delayMilliseconds: delay)))
            }
        }
        queues.append(historyStream(historyRetention))
        queues.append(parkedQueue(Topology.deadLetterQueue))
        queues.append(parkedQueue(Topology.unroutedQueue))
        // A fanout exchange ignores the key; "" is what the management UI shows for such bindings.
        bindings.append(AMQPBinding(queue: Topology.deadLetterQueue, exchange: Topology.deadLetterExchange,
                                    routingKey: ""))
        bindings.append(AMQPBinding(queue: Topology.unroutedQueue, exchange: Topology.unroutedExchange,
                                    routingKey: ""))
        bindings.append(AMQPBinding(queue: Topology.historyStream, exchange: Topology.outcomesExchange,
                                    routingKey: Topology.historyBindingKey))
        return (exchanges: exchanges, queues: queues, bindings: bindings)
    }

    /// A queue PayBridge sends its own messages to, bound to ``Topology/internalExchange`` with its own name.
    static func internalBinding(_ queue: String) -> AMQPBinding {
        AMQPBinding(queue: queue, exchange: Topology.internalExchange, routingKey: queue)
    }

    /// `payments.outcomes`, whose alternate exchange keeps the events no queue is bound for.
    static let outcomesExchange = AMQPExchange(
        Topology.outcomesExchange, type: .topic,
        arguments: ["alternate-exchange": .string(Topology.unroutedExchange)])

    /// A provider's command queue: quorum, dead-letters at least once to ``Topology/deadLetterExchange`` after
    /// ``Topology/commandQueueDeliveryLimit`` deliveries (crash loops). At-least-once dead-lettering requires
    /// `x-overflow=reject-publish`.
    static func commandQueue(_ provider: Provider) -> AMQPQueue {
        AMQPQueue(Topology.commandQueue(provider), kind: .quorum, deadLetterExchange: Topology.deadLetterExchange,
                  deliveryLimit: Topology.commandQueueDeliveryLimit,
                  arguments: ["x-dead-letter-strategy": .string("at-least-once"),
                              "x-overflow": .string("reject-publish")])
    }

    /// A queue where messages wait for people (``Topology/deadLetterQueue``, ``Topology/unroutedQueue``): quorum,
    /// with an explicit delivery limit so high it is never reached (``Topology/parkedQueueDeliveryLimit``).
    static func parkedQueue(_ name: String) -> AMQPQueue {
        AMQPQueue(name, kind: .quorum, deliveryLimit: Topology.parkedQueueDeliveryLimit)
    }

    /// The event history: a durable stream that every outcome event is routed to (``Topology/historyBindingKey``
    /// `#`), kept for ``HistoryRetention/maxAge`` (and at most ``HistoryRetention/maxBytes``). Because it matches
    /// every key, an event reaches ``Topology/unroutedQueue`` only while the stream is missing.
    static func historyStream(_ retention: HistoryRetention) -> AMQPQueue {
        AMQPQueue(Topology.historyStream, kind: .stream, arguments: retention.arguments)
    }

    /// A retry delay queue: no consumers; its queue-wide TTL expires messages in FIFO order into
    /// ``Topology/retryReturnExchange`` with the provider's name as routing key, which routes them back to the
    /// provider's command queue.
    static func retryQueue(_ provider: Provider, stage: Int, delay: Duration) -> AMQPQueue {
        AMQPQueue(Topology.retryQueue(provider, stage: stage), kind: .quorum,
                  deadLetterExchange: Topology.retryReturnExchange,
                  deadLetterRoutingKey: Topology.retryReturnRoutingKey(provider),
                  messageTTLMilliseconds: milliseconds(delay),
                  arguments: ["x-dead-letter-strategy": .string("at-least-once"),
                              "x-overflow": .string("reject-publish")])
    }

    /// A reconciliation delay queue: like a retry delay queue, its TTL expires checks back into the provider's
    /// command queue through ``Topology/retryReturnExchange``.
    static func reconcileQueue(_ provider: Provider, delayMilliseconds: Int) -> AMQPQueue {
        AMQPQueue(Topology.reconcileQueue(provider, delayMilliseconds: delayMilliseconds), kind: .quorum,
                  deadLetterExchange: Topology.retryReturnExchange,
                  deadLetterRoutingKey: Topology.retryReturnRoutingKey(provider),
                  messageTTLMilliseconds: delayMilliseconds,
                  arguments: ["x-dead-letter-strategy": .string("at-least-once"),
                              "x-overflow": .string("reject-publish")])
    }

    static func milliseconds(_ duration: Duration) -> Int {
        let (seconds, attoseconds) = duration.components
        return max(1, Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000))
    }

    /// Declares the whole topology: exchanges, then queues, then bindings. Idempotent: re-declaring an identical
    /// topology changes nothing and loses no message.
    ///
    /// A history stream that exists with another retention (the setting changed after it was created: RabbitMQ
    /// refuses the declaration with 406 and cannot change a queue's arguments) is kept as it is, with a warning
    /// naming the policy that changes its retention; PayBridge goes on (no crash loop).
    /// - Parameters:
    ///   - connection: an open connection (its URL's vhost is where everything is declared).
    ///   - retryDelays: see ``declarations(retryDelays:reconcileSchedule:historyRetention:)``.
    ///   - reconcileSchedule: see ``declarations(retryDelays:reconcileSchedule:historyRetention:)``.
    ///   - historyRetention: see ``declarations(retryDelays:reconcileSchedule:historyRetention:)``.
    ///   - logger: receives the warnings about existing declarations PayBridge accepts as they are.
    /// - Throws: ``PayBridgeToolError`` naming the queue or exchange when the broker refuses a declaration
    ///   (most often 406 PRECONDITION_FAILED: it exists with other arguments), else the ``AMQPError``.
    public static func declare(on connection: AMQPConnection, retryDelays: [Duration] = Topology.retryDelays,
                               reconcileSchedule: ReconcileSchedule = .default,
                               historyRetention: HistoryRetention = .default, logger: Logger? = nil) async throws {
        let declarations = declarations(retryDelays: retryDelays, reconcileSchedule: reconcileSchedule,
                                        historyRetention: historyRetention)
        for exchange in declarations.exchanges {
            do { try await connection.declare(exchange) } catch let error as AMQPError {
                if exchange == outcomesExchange, error.replyCode == 406 {
                    try await acceptOutcomesExchangeWithoutAlternate(on: connection, logger: logger)
                    continue
                }
                throw refused(error, what: "exchange \(exchange.name)")
            }
        }
        for queue in declarations.queues {
            do { try await connection.declare(queue) } catch let error as AMQPError {
                if error.replyCode == 406, queue.deliveryLimit == Topology.parkedQueueDeliveryLimit {
                    try await acceptParkedQueueWithoutLimit(queue.name, refusal: error, on: connection, logger: logger)
                    continue
                }
                if error.replyCode == 406, queue.name == Topology.historyStream {
                    try await acceptHistoryStreamWithOtherRetention(historyRetention, refusal: error, on: connection,
                                                                    logger: logger)
                    continue
                }
                throw refused(error, what: "queue \(queue.name)")
            }
        }
        for binding in declarations.bindings {
            do { try await connection.bind(binding) } catch let error as AMQPError {
                throw refused(error, what: "binding of \(binding.queue) to \(binding.exchange) " +
                              "with key '\(binding.routingKey)'")
            }
        }
    }

    /// A deployment from before `payments.unrouted`: its `payments.outcomes` exists without the
    /// `alternate-exchange` argument, and RabbitMQ cannot add one to an existing exchange (406). PayBridge keeps
    /// working with it: the exchange must exist, and an event no queue is bound for is then returned by the broker
    /// (PayBridge publishes events mandatory) and retried, never dropped. The migration (docs/operations-broker.md, "Upgrading") sets
    /// the alternate exchange by policy.
    private static func acceptOutcomesExchangeWithoutAlternate(on connection: AMQPConnection, logger: Logger?)
        async throws
    {
        do {
            try await connection.declare(AMQPExchange(Topology.outcomesExchange, type: .topic, passive: true))
        } catch let error as AMQPError {
            throw refused(error, what: "exchange \(Topology.outcomesExchange)")
        }
        logger?.warning("""
            payments.outcomes was declared without an alternate exchange (a deployment from before \
            payments.unrouted); unless the policy is set, an event no queue is bound for is held and retried until \
            one is: rabbitmqctl set_policy --apply-to exchanges paybridge-outcomes '^payments\\.outcomes$' \
            '{"alternate-exchange":"payments.unrouted"}'
            """)
    }

    /// A deployment from before the parked queues' explicit delivery limit: `payments.dead` or `payments.unrouted`
    /// exists without `x-delivery-limit`, and RabbitMQ cannot change a queue's arguments (406). PayBridge keeps working
    /// with it; on RabbitMQ 4.x (default limit 20) the limit is set by policy (docs/operations-broker.md,
    /// "Upgrading"; deploy/rabbitmq-policies.json).
    /// Only that exact earlier declaration is accepted (declaring it again as it was succeeds); anything else
    /// (a classic queue, other arguments) is reported as the refusal it is.
    private static func acceptParkedQueueWithoutLimit(
        _ name: String, refusal: AMQPError, on connection: AMQPConnection, logger: Logger?
    ) async throws {
        do {
            _ = try await connection.declare(AMQPQueue(name, kind: .quorum))
        } catch is AMQPError {
            throw refused(refusal, what: "queue \(name)")
        }
        logger?.warning("""
            \(name) was declared without an explicit delivery limit (a deployment from before it); on RabbitMQ 4.x its \
            default of 20 deliveries would drop parked messages. Set it by policy: rabbitmqctl set_policy \
            --apply-to queues paybridge-parked '^payments\\.(dead|unrouted)$' '{"delivery-limit":\(Topology.parkedQueueDeliveryLimit)}'
            """)
    }

    /// The retention arguments RabbitMQ may report as "inequivalent" when the history stream exists with another
    /// retention.
    static let historyRetentionArguments = ["x-max-age", "x-max-length-bytes"]

    /// `payments.history` exists with another retention than this process would declare: `PAYBRIDGE_HISTORY_MAX_AGE`
    /// or `PAYBRIDGE_HISTORY_MAX_BYTES` changed after the stream was created (RabbitMQ refuses the declaration with
    /// 406 and cannot change a queue's arguments). Crashing would only loop: the stream is kept as it is (it is
    /// checked to exist) and a warning names the policy that sets the new retention. A refusal about anything
    /// else (say, a classic queue of that name: `x-queue-type`) is reported as the refusal it is.
    private static func acceptHistoryStreamWithOtherRetention(
        _ retention: HistoryRetention, refusal: AMQPError, on connection: AMQPConnection, logger: Logger?
    ) async throws {
        let text = refusal.replyText ?? ""
        guard historyRetentionArguments.contains(where: { text.contains("'\($0)'") }) else {
            throw refused(refusal, what: "queue \(Topology.historyStream)")
        }
        do {
            _ = try await connection.declare(AMQPQueue(Topology.historyStream, kind: .stream, passive: true))
        } catch is AMQPError {
            throw refused(refusal, what: "queue \(Topology.historyStream)")
        }
        logger?.warning("""
            \(Topology.historyStream) exists with another retention than PAYBRIDGE_HISTORY_MAX_AGE / \
            PAYBRIDGE_HISTORY_MAX_BYTES ask for (\(retention)); RabbitMQ cannot change a stream's arguments, so it keeps \
            its old retention (the broker said: \(text)). To apply the new one, set a policy (it takes precedence over \
            the arguments; once it is set, this warning is expected): \(historyPolicyCommand(retention))
            """)
    }

    /// The `rabbitmqctl set_policy` command that gives the history stream `retention` (docs/operations-tools.md).
    public static func historyPolicyCommand(_ retention: HistoryRetention) -> String {
        var definition = "\"max-age\":\"\(retention.maxAge)\""
        if let maxBytes = retention.maxBytes { definition += ",\"max-length-bytes\":\(maxBytes)" }
        return "rabbitmqctl set_policy --apply-to queues paybridge-history '^payments\\.history$' '{\(definition)}'"
    }

    private static func refused(_ error: AMQPError, what: String) -> any Error {
        guard error.code == .channelClosed, let replyCode = error.replyCode else { return error }
        var message = "the broker refused to declare \(what): \(replyCode) \(error.replyText ?? "")"
        if replyCode == 406 {
            message += ". It already exists with different settings; compare it with "
                + "`paybridge topology --print-definitions`, then delete it (after moving its messages) or fix it."
        }
        return PayBridgeToolError(message, underlying: error)
    }
}
