public import AMQP
import Foundation
public import Logging
import PayBridgeContract
import PayBridgeTracing
import PayBridgeTopology

/// Publishes payment commands to `payments.commands` the way a producer should, and optionally waits for the
/// outcome events PayBridge publishes for them (`paybridge send`).
///
/// The routing key comes from the CloudEvent `type` (`paybridge.amanpay.purchase.v1` → `amanpay.purchase`, via
/// ``PaymentCommandKind``). The message is persistent, `message_id` is the command id, `content_type` is
/// `application/cloudevents+json`, and it is published `mandatory` with a publisher confirm, so a command that no
/// queue receives (topology not declared) is an error instead of silently lost.
public struct CommandSender: Sendable {
    /// How a wait for events ended.
    public enum Completion: Sendable, Hashable {
        /// An event with `final == true` arrived.
        case final
        /// A `paybridge.command.failed.v1` event arrived.
        case commandFailed
        /// A `paybridge.payment.unresolved.v1` event arrived: the payment is still open after PayBridge's last
        /// reconciliation check.
        case unresolved
        /// The timeout passed first.
        case timedOut
    }

    /// What was published.
    public struct SentCommand: Sendable, Hashable {
        /// The command id (CloudEvent `id`), `nil` when the body is not a readable CloudEvent.
        public var commandId: String?
        /// The CloudEvent `type`, when readable.
        public var type: String?
        /// Routing key used on `payments.commands`.
        public var routingKey: String
        /// The merchant's payment id from `data` (Amanpay `paymentId`, FirstPay `merchantPaymentId`), when the
        /// command is valid and has one; used to recognise callbacks.
        public var paymentId: String?
        /// The W3C `traceparent` the command is published with (AMQP header): the body's CloudEvents `traceparent`
        /// attribute when it has a valid one, otherwise a new trace's. PayBridge's spans, provider calls and events
        /// for this command continue it.
        public var traceparent: String

        /// The trace id of ``traceparent`` (32 hex digits): what to look for in a tracing backend or the logs.
        public var traceId: String { TraceContext(traceparent: traceparent)?.traceID ?? "" }

        /// - Parameters: see the properties; `traceparent` defaults to a new trace's.
        public init(commandId: String?, type: String?, routingKey: String, paymentId: String? = nil,
                    traceparent: String? = nil) {
            self.commandId = commandId
            self.type = type
            self.routingKey = routingKey
            self.paymentId = paymentId
            self.traceparent = traceparent.flatMap { TraceContext(traceparent: $0)?.traceparent }
                ?? TraceContext.newTrace().traceparent
        }
    }

    /// The result of ``sendAndWait(_:routingKey:timeout:includeCallbacks:onEvent:)``.
    public struct Result: Sendable {
        /// What was published.
        public var command: SentCommand
        /// The matching events, in arrival order.
        public var events: [ReceivedEvent]
        /// Why the wait ended.
        public var completion: Completion
    }

    /// The connection used for publishing and for the temporary event queue.
    public let connection: AMQPConnection
    /// Exchange commands go to; ``Topology/commandsExchange``.
    public var exchange: String
    /// Exchange events are read from; ``Topology/outcomesExchange``.
    public var outcomesExchange: String
    /// `app_id` on published commands.
    public var appId: String
    let logger: Logger

    /// - Parameters:
    ///   - connection: an open connection to the broker.
    ///   - appId: `app_id` written on commands, default `paybridge-send`.
    ///   - logger: debug output.
    public init(connection: AMQPConnection, appId: String = "paybridge-send",
                logger: Logger = Logger(label: "paybridge.tools.send")) {
        self.connection = connection
        self.exchange = Topology.commandsExchange
        self.outcomesExchange = Topology.outcomesExchange
        self.appId = appId
        self.logger = logger
    }

    /// Works out id, type and routing key of a command body without publishing it.
    /// - Parameters:
    ///   - body: the CloudEvent JSON.
    ///   - routingKey: use this routing key instead of the one derived from `type` (to send a deliberately
    ///     invalid command, for instance); the body is then not required to be a CloudEvent.
    /// - Throws: ``PayBridgeToolError`` when no routing key is given and the body is not a CloudEvent or its
    ///   type is not a PayBridge command.
    public static func inspect(_ body: [UInt8], routingKey: String? = nil) throws -> SentCommand {
        let event: CloudEvent
        do { event = try CloudEvent.parse(body) } catch {
            guard let routingKey else {
                throw PayBridgeToolError("the command is not a CloudEvent (\(error.reason)); "
                    + "pass a routing key explicitly to send it anyway", underlying: error)
            }
            return SentCommand(commandId: nil, type: nil, routingKey: routingKey, paymentId: nil)
        }
        let kind = PaymentCommandKind(type: event.type)
        guard let key = routingKey ?? kind?.routingKey else {
            let known = PaymentCommandKind.allCases.map(\.type).joined(separator: ", ")
            throw PayBridgeToolError("unknown command type '\(event.type)'; PayBridge knows \(known) "
                + "(pass a routing key explicitly to send it anyway)")
        }
        var paymentId: String?
        if case .success(let command) = CommandDecoder().decode(body, routingKey: kind?.routingKey) {
            paymentId = command.paymentId
        }
        return SentCommand(commandId: event.id, type: event.type, routingKey: key, paymentId: paymentId,
                           traceparent: event.extensions["traceparent"]?.stringValue)
    }

    /// Publishes a command and waits for the broker's confirm.
    /// - Parameters:
    ///   - body: the CloudEvent JSON, sent unchanged.
    ///   - routingKey: override of the routing key derived from `type`.
    /// - Returns: what was sent.
    /// - Throws: ``PayBridgeToolError`` for an unreadable command or when no queue is bound for the routing key;
    ///   ``AMQPError`` for broker failures.
    @discardableResult
    public func send(_ body: [UInt8], routingKey: String? = nil, traceparent: String? = nil) async throws
        -> SentCommand
    {
        var command = try Self.inspect(body, routingKey: routingKey)
        if let traceparent, let valid = TraceContext(traceparent: traceparent) { command.traceparent = valid.traceparent }
        try await publish(body, command)
        return command
    }

    /// Publishes a command, then collects the outcome events for it until one ends the command
    /// (``ReceivedEvent/endsCommand``) or `timeout` passes.
    ///
    /// Before publishing, it declares an exclusive, auto-deleted queue bound to `payments.outcomes` with `#`, so no
    /// event can be missed. An event matches when its AMQP `correlation_id` equals the command id, or (with
    /// `includeCallbacks`) when it is a `payment.callback` event whose `data.paymentId` is the command's payment id.
    /// Other events are acknowledged and ignored.
    /// - Parameters:
    ///   - body: the CloudEvent JSON.
    ///   - routingKey: override of the routing key derived from `type`.
    ///   - timeout: the longest wait for a final event.
    ///   - includeCallbacks: also return callback events for the same payment (they carry no correlation id).
    ///   - onEvent: called for each matching event as it arrives (to print it).
    /// - Returns: the command and its events.
    /// - Throws: ``PayBridgeToolError`` / ``AMQPError`` as ``send(_:routingKey:)``; the timeout is not an error.
    public func sendAndWait(
        _ body: [UInt8], routingKey: String? = nil, timeout: Duration = .seconds(30), includeCallbacks: Bool = true,
        traceparent: String? = nil, onEvent: @escaping @Sendable (ReceivedEvent) async -> Void = { _ in }
    ) async throws -> Result {
        var command = try Self.inspect(body, routingKey: routingKey)
        if let traceparent, let valid = TraceContext(traceparent: traceparent) { command.traceparent = valid.traceparent }
        guard let commandId = command.commandId else {
            throw PayBridgeToolError("the command has no readable id, so its events cannot be recognised; "
                + "send it without waiting")
        }
        let queueName = "consumer.paybridge-send.\(UUID().uuidString.lowercased())"
        do {
            try await connection.declare(AMQPQueue(queueName, kind: .classic, durable: false, exclusive: true,
                                                   autoDelete: true))
            try await connection.bind(queue: queueName, exchange: outcomesExchange, routingKey: "#")
        } catch let error as AMQPError where error.code == .channelClosed {
            throw PayBridgeToolError("cannot listen on \(outcomesExchange) (\(error.replyCode ?? 0) "
                + "\(error.replyText ?? "")); run `paybridge topology` first", underlying: error)
        }
        do {
            let result = try await collect(queue: queueName, body: body, command: command, commandId: commandId,
                                           timeout: timeout, includeCallbacks: includeCallbacks, onEvent: onEvent)
            _ = try? await connection.deleteQueue(queueName)
            return result
        } catch {
            _ = try? await connection.deleteQueue(queueName)
            throw error
        }
    }

    private func collect(
        queue: String, body: [UInt8], command: SentCommand, commandId: String, timeout: Duration,
        includeCallbacks: Bool, onEvent: @escaping @Sendable (ReceivedEvent) async -> Void
    ) async throws -> Result {
        let consumer = try await connection.consume(queue: queue, prefetch: 100)
        try await publish(body, command)

        let matches: @Sendable (ReceivedEvent) -> Bool = { event in
            if event.properties.correlationId == commandId { return true }
            guard includeCallbacks, let paymentId = command.paymentId,
                event.type == OutcomeEvents.callbackType else { return false }
            return event.event?.data?["paymentId"]?.stringValue == paymentId
        }
        return try await withThrowingTaskGroup(of: Result?.self) { group in
            group.addTask {
                var events: [ReceivedEvent] = []
                for try await delivery in consumer {
                    try await delivery.ack()
                    let event = ReceivedEvent(routingKey: delivery.routingKey, properties: delivery.properties,
                                              body: delivery.body)
                    guard matches(event) else { continue }
                    events.append(event)
                    await onEvent(event)
                    if event.endsCommand {
                        let completion: Completion = switch event.type {
                        case OutcomeEvents.commandFailedType: .commandFailed
                        case OutcomeEvents.unresolvedType: .unresolved
                        default: .final
                        }
                        return Result(command: command, events: events, completion: completion)
                    }
                }
                return Result(command: command, events: events, completion: .timedOut)
            }
            group.addTask {
                // The timer ends the consumer (basic.cancel): the collector reads what is buffered, then stops.
                try? await Task.sleep(for: timeout)
                await consumer.cancel()
                return nil
            }
            var result: Result?
            while let next = try await group.next() {
                if let next {
                    result = next
                    group.cancelAll()
                }
            }
            await consumer.cancel()
            // The collector either returned a result or threw (and then `group.next()` rethrew).
            return result!
        }
    }

    private func publish(_ body: [UInt8], _ command: SentCommand) async throws {
        let properties = AMQPProperties(
            contentType: Topology.contentType, headers: ["traceparent": .string(command.traceparent)], persistent: true,
            messageId: command.commandId, timestamp: UInt64(Date().timeIntervalSince1970), type: command.type,
            appId: appId)
        do {
            try await connection.publish(body, exchange: exchange, routingKey: command.routingKey, mandatory: true,
                                         properties: properties)
        } catch let error as AMQPError where error.code == .unroutable {
            throw PayBridgeToolError("no queue is bound to \(exchange) for routing key '\(command.routingKey)': "
                + "the command was not delivered; run `paybridge topology` first", underlying: error)
        } catch let error as AMQPError where error.code == .channelClosed && error.replyCode == 404 {
            throw PayBridgeToolError("the exchange \(exchange) does not exist: the command was not delivered; "
                + "run `paybridge topology` first", underlying: error)
        }
        logger.debug("command published", metadata: ["command.id": "\(command.commandId ?? "-")",
                                                     "amqp.routing_key": "\(command.routingKey)"])
    }
}
