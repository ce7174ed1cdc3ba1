import Foundation
import PaymentVocabulary

/// RabbitMQ names shared by the worker, the callback endpoint, `paybridge topology` and consumers.
///
/// Pinned by the message contract (docs/contract.md): ``commandsExchange``, ``outcomesExchange``, the per-provider quorum
/// queues, the dead-letter queue and the routing keys. The retry and dead-letter plumbing is PayBridge-internal but
/// named here so every component (and operators) agree. docs/wire.md, "Broker names", has the table.
public enum Topology {
    // MARK: Exchanges

    /// Topic exchange where producers publish commands with routing key `<provider>.<operation>`.
    public static let commandsExchange = "payments.commands"
    /// Topic exchange where PayBridge publishes outcome events.
    public static let outcomesExchange = "payments.outcomes"
    /// Direct exchange that delay queues dead-letter into when their TTL expires; routes back to the provider's
    /// command queue with routing key = provider name (`amanpay`, `firstpay`). Using a separate exchange keeps
    /// retries away from other consumers bound to ``commandsExchange``.
    public static let retryReturnExchange = "payments.retry.return"
    /// Fanout exchange in front of ``deadLetterQueue``: the command queues dead-letter into it (quorum-queue
    /// delivery limit) and the worker publishes rejected commands to it with the reason headers.
    public static let deadLetterExchange = "payments.dead-letter"
    /// Fanout exchange that is ``outcomesExchange``'s alternate exchange: it receives every event no queue is
    /// bound for and routes it into ``unroutedQueue``.
    public static let unroutedExchange = "payments.unrouted"
    /// Direct exchange of the messages PayBridge sends to itself: callback notifications, reconciliation checks,
    /// retries, put-backs, deferrals and `paybridge dead-letters replay` copies. Each queue they go to (the command
    /// queues, the retry and reconciliation delay queues) is bound to it with its own name as the key, so PayBridge
    /// publishes here with routing key = queue name. Only the `paybridge` role may publish here (producers may
    /// publish to ``commandsExchange`` alone, see ``BrokerRole``), and PayBridge honours its own `x-paybridge-*`
    /// headers only on deliveries that came through this exchange or ``retryReturnExchange``
    /// (``isInternalRoute(exchange:)``).
    public static let internalExchange = "payments.internal"

    /// Whether a delivery that arrived through `exchange` was sent by PayBridge itself: through
    /// ``internalExchange``, or back from a delay queue through ``retryReturnExchange`` (delay queues are filled only
    /// through ``internalExchange``). Anything else, ``commandsExchange`` above all, is a producer's message: its
    /// routing key alone decides the command type, and any `x-paybridge-*` header on it is ignored.
    public static func isInternalRoute(exchange: String) -> Bool {
        exchange == internalExchange || exchange == retryReturnExchange
    }

    /// Whether an AMQP header name is one of PayBridge's own (`x-paybridge-…`, in any letter case).
    public static func isPayBridgeHeader(_ name: String) -> Bool {
        // Byte by byte, ASCII letters folded: called for every header of every delivery, so nothing is allocated.
        var bytes = name.utf8.makeIterator()
        for expected in payBridgeHeaderPrefix {
            guard let byte = bytes.next(), byte | 0x20 == expected | 0x20,
                byte == expected || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(expected)
            else { return false }
        }
        return true
    }

    /// `x-paybridge`, the prefix of PayBridge's header names, as ASCII bytes.
    private static let payBridgeHeaderPrefix = Array("x-paybridge".utf8)

    // MARK: Queues

    /// Quorum queue holding one provider's commands, bound to ``commandsExchange`` with `<provider>.*`.
    /// - Parameter provider: the provider.
    /// - Returns: `payments.amanpay` or `payments.firstpay`.
    public static func commandQueue(_ provider: Provider) -> String { PerProvider.names(provider).commandQueue }

    /// The command queue a command routing key (`amanpay.purchase`) lands on: that of the provider its first segment
    /// names; `nil` when it names none.
    public static func commandQueue(for routingKey: String) -> String? {
        routingKey.split(separator: ".", maxSplits: 1).first.flatMap { Provider(rawValue: String($0)) }
            .map(commandQueue)
    }

    /// The binding key of ``commandQueue(_:)`` on ``commandsExchange``: `amanpay.*` / `firstpay.*`.
    public static func commandBindingKey(_ provider: Provider) -> String { "\(provider.rawValue).*" }

    /// Quorum queue of commands PayBridge gave up on (invalid, retries exhausted), with the reason in headers.
    public static let deadLetterQueue = "payments.dead"

    /// Quorum queue keeping the events that no queue was bound for when they were published (through
    /// ``unroutedExchange``), so an outcome is never dropped silently.
    public static let unroutedQueue = "payments.unrouted"

    /// Durable RabbitMQ stream (`x-queue-type=stream`) keeping every outcome event, bound to ``outcomesExchange``
    /// with ``historyBindingKey``: consumers read it back from any point in time within its retention
    /// (`PAYBRIDGE_HISTORY_MAX_AGE`, `PAYBRIDGE_HISTORY_MAX_BYTES`) with `x-stream-offset`, e.g. to rebuild a
    /// projection (`paybridge events replay`). Reading never removes anything.
    public static let historyStream = "payments.history"

    /// The binding key of ``historyStream`` on ``outcomesExchange``: every event.
    public static let historyBindingKey = "#"

    /// Broker-side retry delays, one delay queue per stage. Stage `n` (1-based) waits `retryDelays[n-1]`.
    /// Attempts beyond the last stage reuse the last stage. Default schedule: 5 s, 30 s, 2 min, 10 min, 30 min.
    public static let retryDelays: [Duration] = [.seconds(5), .seconds(30), .seconds(120), .seconds(600), .seconds(1800)]

    /// Name of the delay queue for a provider and stage: `payments.retry.<provider>.<stage>`.
    ///
    /// The queue has no consumers; its `x-message-ttl` is the stage's delay and it dead-letters expired messages
    /// to ``retryReturnExchange`` with routing key ``retryReturnRoutingKey(_:)``, which routes them back to
    /// ``commandQueue(_:)``. The worker publishes a command to be retried to ``internalExchange`` with
    /// routing key = this queue name, headers ``Headers/attempt`` (incremented) and
    /// ``Headers/originalRoutingKey``.
    /// - Parameters:
    ///   - provider: the provider.
    ///   - stage: 1 ... `retryDelays.count`; clamped to that range.
    public static func retryQueue(_ provider: Provider, stage: Int) -> String {
        "payments.retry.\(provider.rawValue).\(min(max(stage, 1), retryDelays.count))"
    }

    /// The delay stage for the next attempt: attempt 2 waits in stage 1, attempt 3 in stage 2, …, clamped.
    /// - Parameter nextAttempt: the attempt number the retried delivery will carry (≥ 2).
    public static func retryStage(forAttempt nextAttempt: Int) -> Int { min(max(nextAttempt - 1, 1), retryDelays.count) }

    /// Routing key with which a delay queue dead-letters back (= the provider name).
    public static func retryReturnRoutingKey(_ provider: Provider) -> String { provider.rawValue }

    /// The delay queue of a reconciliation check: `payments.reconcile.<provider>.<delay>`, e.g.
    /// `payments.reconcile.amanpay.5m` (``ReconcileSchedule/name(milliseconds:)``). One per provider and distinct
    /// delay of `PAYBRIDGE_RECONCILE_SCHEDULE`. Like a retry delay queue it has no consumers: its `x-message-ttl` is
    /// the delay, and it dead-letters into ``retryReturnExchange`` with the provider's name, back to
    /// ``commandQueue(_:)``, where any worker of the provider runs the check. The worker publishes a check to the
    /// ``internalExchange`` with routing key = this queue name.
    public static func reconcileQueue(_ provider: Provider, delayMilliseconds: Int) -> String {
        "payments.reconcile.\(provider.rawValue).\(ReconcileSchedule.name(milliseconds: delayMilliseconds))"
    }

    /// Explicit quorum-queue delivery limit of the queues where messages are parked for people (``deadLetterQueue``,
    /// ``unroutedQueue``). They have no dead-letter exchange, so reaching a limit would drop a message: RabbitMQ 4.x
    /// gives every quorum queue a default limit of 20, and `paybridge dead-letters list` returns what it shows with
    /// `basic.nack(requeue)`, which counts as a delivery on 4.0–4.2. One million is "never" in practice, and is
    /// accepted by 3.10 too (which refuses 4.x's `-1` for "unlimited").
    public static let parkedQueueDeliveryLimit = 1_000_000

    /// Quorum-queue delivery limit on the command queues: a message redelivered this often (crash loops) is
    /// dead-lettered by the broker to ``deadLetterExchange`` instead of looping forever.
    public static let commandQueueDeliveryLimit = 20

    // MARK: Routing keys of outcome events

    /// `<provider>.<operation>.response` for `paybridge.payment.response.v1`.
    public static func responseRoutingKey(_ kind: PaymentCommandKind) -> String {
        PerProvider.responseRoutingKey(kind)
    }
    /// `<provider>.<operation>.response` for `paybridge.payment.response.v1`. An unknown or unreadable operation
    /// is written as `unknown`.
    public static func responseRoutingKey(_ provider: Provider, operation: String?) -> String {
        "\(provider.rawValue).\(sanitizedSegment(operation)).response"
    }
    /// `<provider>.callback` for `paybridge.payment.callback.v1`; also the original routing key a callback
    /// notification carries on the provider's command queue (``Headers/notification``).
    public static func callbackRoutingKey(_ provider: Provider) -> String { PerProvider.names(provider).callback }
    /// `<provider>.unresolved` for `paybridge.payment.unresolved.v1`: a payment still open when its reconciliation
    /// schedule ran out.
    public static func unresolvedRoutingKey(_ provider: Provider) -> String { PerProvider.names(provider).unresolved }
    /// `<provider>.reconcile`: the original routing key of a reconciliation check on the provider's command queue.
    public static func reconcileRoutingKey(_ provider: Provider) -> String { PerProvider.names(provider).reconcile }
    /// `<provider>.<operation>.failed` for `paybridge.command.failed.v1`. An unknown or unreadable operation is
    /// written as `unknown`.
    public static func failedRoutingKey(_ provider: Provider, operation: String?) -> String {
        "\(provider.rawValue).\(sanitizedSegment(operation)).failed"
    }

    /// A routing-key segment made safe: lower-case letters, digits and `_` only, else `unknown`.
    static func sanitizedSegment(_ s: String?) -> String {
        guard let s, !s.isEmpty, s.count <= 64,
            s.unicodeScalars.allSatisfy({ ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" })
        else { return "unknown" }
        return s
    }

    // MARK: Message properties

    /// AMQP `content_type` of commands and events.
    public static let contentType = CloudEvent.structuredContentType
    /// AMQP `delivery_mode` for persistent messages.
    public static let persistentDeliveryMode: UInt8 = 2

    /// PayBridge's own AMQP header names.
    public enum Headers {
        /// W3C trace context (the names are W3C's): read from commands, written on everything PayBridge publishes.
        public static let traceparent = "traceparent"
        /// W3C trace context: the vendors' trace state, forwarded with ``traceparent``.
        public static let tracestate = "tracestate"
        /// Attempt number of this delivery of a command (integer, 1-based; absent = 1). Set by the worker when it
        /// schedules a broker-side retry; compared with `PAYBRIDGE_MAX_ATTEMPTS`.
        public static let attempt = "x-paybridge-attempt"
        /// The routing key the command was originally published with (set on retries and dead letters, whose own
        /// routing key is a queue name). Pass it to ``CommandDecoder/decode(_:routingKey:)``.
        public static let originalRoutingKey = "x-paybridge-original-routing-key"
        /// `true` on a command `paybridge dead-letters replay` re-published (boolean). Its attempt count starts
        /// again at 1, and a replayed create reads the payment's status before it creates (A5, F8): its earlier
        /// run may have reached the provider.
        public static let replayed = "x-paybridge-replayed"
        /// Dead letters: the machine-readable reason, an ``ErrorClass`` raw value (`invalid_command`,
        /// `retries_exhausted`, …).
        public static let deadLetterReason = "x-paybridge-dead-letter-reason"
        /// Dead letters: the error code (`SCHEMA_VIOLATION`, `BAD_JSON`, the last error of a command whose retries ran out, a provider code).
        public static let deadLetterCode = "x-paybridge-dead-letter-code"
        /// Dead letters: human-readable detail (at most ``maximumDetailLength`` UTF-8 bytes, no secrets).
        public static let deadLetterDetail = "x-paybridge-dead-letter-detail"
        /// Dead letters: RFC 3339 time PayBridge dead-lettered the command.
        public static let deadLetteredAt = "x-paybridge-dead-lettered-at"
        /// Dead letters: the queue the command was consumed from.
        public static let sourceQueue = "x-paybridge-source-queue"
        /// Dead letters: id of the `paybridge.command.failed.v1` event published for it.
        public static let failedEventId = "x-paybridge-failed-event-id"
        /// Marks a callback notification on a provider's command queue (value `callback`): a verified callback
        /// or postback, stored by the callback endpoint, that a worker confirms with a status read.
        /// Value `reconcile`: a reconciliation check, back from its delay queue (``reconcileQueue(_:delayMilliseconds:)``).
        public static let notification = "x-paybridge-notification"
        /// Callback notifications: the callback's `Authorization` header as received (Amanpay's A2 signature), so
        /// the worker verifies the body again before it acts on it.
        public static let callbackSignature = "x-paybridge-callback-signature"
        /// Callback notifications: RFC 3339 time the callback endpoint received the callback.
        public static let receivedAt = "x-paybridge-received-at"
        /// Callback notifications: the merchant account whose path the callback arrived on
        /// (`/callbacks/<provider>/<account>`; absent = `default`), so the worker verifies and reads with that
        /// account's keys.
        public static let account = "x-paybridge-account"
        /// Retries, dead letters and put-back commands: the received headers PayBridge did not forward, as text:
        /// how many, their encoded size, and their keys (`3 headers, 131002 bytes: x-a, x-b, x-c`), at most
        /// ``maximumDetailLength`` UTF-8 bytes. A header is forwarded only when its key is at most
        /// ``maximumForwardedKeyBytes`` and, in the order received (PayBridge's own first), the forwarded ones
        /// together take at most ``maximumForwardedHeaderBytes``: what PayBridge re-publishes always fits a frame,
        /// whatever a producer sent. Absent when nothing was dropped.
        public static let droppedHeaders = "x-paybridge-dropped-headers"
        /// The longest header key PayBridge forwards, in UTF-8 bytes (AMQP allows 255).
        public static let maximumForwardedKeyBytes = 128
        /// The most the received headers PayBridge forwards may take together, encoded as AMQP field-table entries
        /// (key, type and value), in bytes. PayBridge's own headers come on top (a few kilobytes at most).
        public static let maximumForwardedHeaderBytes = 16 * 1024
        /// Maximum length of ``deadLetterDetail`` (and of ``deadLetterCode`` and ``droppedHeaders``), in UTF-8
        /// bytes.
        public static let maximumDetailLength = 1024

        /// `detail` clipped to at most ``maximumDetailLength`` UTF-8 bytes, at a Unicode scalar boundary. By
        /// bytes, not characters: one character can be a base followed by thousands of combining marks, and what
        /// has to fit is the AMQP frame.
        public static func clippedDetail(_ detail: String) -> String {
            clipped(detail, toUTF8Bytes: maximumDetailLength)
        }

        /// `text` clipped to at most `limit` UTF-8 bytes, at a Unicode scalar boundary (see ``clippedDetail(_:)``).
        public static func clipped(_ text: String, toUTF8Bytes limit: Int) -> String {
            guard text.utf8.count > limit else { return text }
            var bytes = 0
            var scalars = String.UnicodeScalarView()
            for scalar in text.unicodeScalars {
                let length = UTF8.width(scalar)
                guard bytes + length <= limit else { break }
                bytes += length
                scalars.append(scalar)
            }
            return String(scalars)
        }
    }
}

extension Topology {
    /// The PayBridge headers for a command published to ``deadLetterExchange``, all as strings except
    /// ``Headers/attempt`` (add that yourself as an integer when known).
    /// - Parameters:
    ///   - reason: the error class (`invalid_command`, `retries_exhausted`, …).
    ///   - code: the error code (`SCHEMA_VIOLATION`, a provider's code, …); clipped like `detail`.
    ///   - detail: human-readable detail; clipped to ``Headers/maximumDetailLength`` UTF-8 bytes
    ///     (``Headers/clippedDetail(_:)``).
    ///   - sourceQueue: the queue the command was consumed from.
    ///   - failedEventId: id of the `command.failed` event published for it; `nil` when none was (a callback
    ///     notification that could not be confirmed publishes no event).
    ///   - originalRoutingKey: the routing key it was first published with, when known.
    ///   - at: when it was dead-lettered.
    /// - Returns: header name → value.
    public static func deadLetterHeaders(
        reason: ErrorClass, code: String, detail: String, sourceQueue: String, failedEventId: String?,
        originalRoutingKey: String?, at: Date = Date()
    ) -> [String: String] {
        var headers = [
            Headers.deadLetterReason: reason.rawValue,
            Headers.deadLetterCode: Headers.clippedDetail(code),
            Headers.deadLetterDetail: Headers.clippedDetail(detail),
            Headers.deadLetteredAt: RFC3339.string(from: at),
            Headers.sourceQueue: sourceQueue,
        ]
        if let failedEventId { headers[Headers.failedEventId] = failedEventId }
        if let originalRoutingKey { headers[Headers.originalRoutingKey] = originalRoutingKey }
        return headers
    }
}
