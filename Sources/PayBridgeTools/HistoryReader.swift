public import AMQP
public import Foundation
public import Logging
public import PayBridgeContract
import Synchronization
import PayBridgeTopology

/// Reads outcome events back from the event history stream `payments.history` (``Topology/historyStream``):
/// `paybridge events replay`, and any code that needs the events of a period (tests, a projection rebuilt after a
/// loss).
///
/// How: `basic.consume` on the stream with a prefetch (streams require one), manual acks, and the consumer argument
/// `x-stream-offset` = the AMQP timestamp of ``Options/since`` (whole seconds). The broker starts at the chunk that
/// holds that time, so events from a little earlier arrive too: those whose CloudEvents `time` (else the AMQP
/// `timestamp`) is before ``Options/since`` are left out. Reading removes nothing.
///
/// When it ends (without ``Options/follow``): at the first event that happened at or after the moment the reading
/// started (its CloudEvents `time`, else its AMQP `timestamp`; that event is not returned), or when no delivery
/// has arrived for ``Options/idle`` (the stream holds nothing newer). The first rule compares the producer's clock
/// with this machine's; with clocks apart by more than the idle interval, a few events of the last moments before the
/// start may be left for the live consumer instead. With ``Options/follow`` it reads on until its task is cancelled.
///
/// A resubscription after a reconnect starts again at ``Options/since``; deliveries whose `x-stream-offset` header
/// was already seen are skipped, so each event is handed out once. Bodies that are not CloudEvents are skipped and
/// counted (``Summary/notCloudEvents``).
public struct HistoryReader: Sendable {
    /// What to read.
    public struct Options: Sendable, Hashable {
        /// Events that happened before this are left out.
        public var since: Date
        /// Only events whose `data.paymentId` or `data.providerPaymentId` equals it; `nil`: all.
        public var paymentId: String?
        /// Without ``follow``, the reading ends when no delivery arrived for this long. Default 2 s.
        public var idle: Duration
        /// Read on after catching up (new events as they are published) until the task is cancelled.
        public var follow: Bool
        /// Deliveries the broker sends ahead of the acks (`basic.qos`; a stream consumer requires one).
        public var prefetch: UInt16

        public init(since: Date, paymentId: String? = nil, idle: Duration = HistoryReader.defaultIdle,
                    follow: Bool = false, prefetch: UInt16 = 500) {
            self.since = since
            self.paymentId = paymentId
            self.idle = idle
            self.follow = follow
            self.prefetch = max(prefetch, 1)
        }
    }

    /// Why a reading ended.
    public enum End: String, Sendable, Hashable {
        /// An event from after the start arrived: everything older was read.
        case caughtUp = "caught up"
        /// No delivery arrived for ``Options/idle``.
        case idle
        /// The task was cancelled, or the broker ended the consumer normally (``Options/follow``).
        case stopped
    }

    /// What a reading saw.
    public struct Summary: Sendable, Hashable {
        /// Deliveries read from the stream, skipped ones included.
        public var delivered = 0
        /// Events handed out (after the filters).
        public var matched = 0
        /// Deliveries whose body is not a CloudEvent (skipped).
        public var notCloudEvents = 0
        /// Why the reading ended.
        public var end: End = .stopped
    }

    /// The default of ``Options/idle``: 2 s.
    public static let defaultIdle: Duration = .seconds(2)

    let connection: AMQPConnection
    /// The stream read (default ``Topology/historyStream``).
    public let stream: String
    /// What to read.
    public let options: Options
    let logger: Logger

    /// - Parameters:
    ///   - connection: an open connection to the vhost of the stream.
    ///   - options: what to read.
    ///   - stream: the stream; default `payments.history`.
    ///   - logger: debug lines (skipped deliveries, how the reading ended).
    public init(connection: AMQPConnection, options: Options, stream: String = Topology.historyStream,
                logger: Logger = Logger(label: "paybridge.history")) {
        self.connection = connection
        self.options = options
        self.stream = stream
        self.logger = logger
    }

    /// Reads the matching events into an array (without ``Options/follow``: up to the moment the reading started).
    /// - Returns: the events in stream order, each with its parsed ``ReceivedEvent/event``.
    /// - Throws: ``PayBridgeToolError`` when the stream is missing or cannot be read, else the ``AMQPError``.
    public func read() async throws -> [ReceivedEvent] {
        var events: [ReceivedEvent] = []
        _ = try await read { events.append($0) }
        return events
    }

    /// The matching events as an asynchronous sequence; it ends as ``read(_:)`` does, and cancelling its consumer
    /// ends the reading.
    public func events() -> AsyncThrowingStream<ReceivedEvent, any Error> {
        AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    _ = try await read { continuation.yield($0) }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// Hands each matching event to `handle`, in stream order, acknowledging each delivery after `handle` returned.
    /// - Returns: what the reading saw and why it ended.
    /// - Throws: ``PayBridgeToolError`` when the stream is missing or cannot be read, else what `handle` or the
    ///   connection threw.
    public func read(_ handle: (ReceivedEvent) async throws -> Void) async throws -> Summary {
        let started = Date()
        try await checkStream()
        let offset = UInt64(max(0, options.since.timeIntervalSince1970.rounded(.down)))
        let consumer: AMQPConsumer
        do {
            consumer = try await connection.consume(queue: stream, prefetch: options.prefetch,
                                                    arguments: ["x-stream-offset": .timestamp(offset)])
        } catch let error as AMQPError {
            throw refused(error)
        }
        let activity = Activity()
        return try await withThrowingTaskGroup(of: Void.self, returning: Summary.self) { group in
            if !options.follow {
                // The idle watchdog: cancels the consumer once no delivery arrived for `idle`, which ends the loop
                // below normally (after the deliveries already received).
                let idle = options.idle
                group.addTask {
                    var deadline = activity.lastDelivery.withLock { $0 } + idle
                    while true {
                        try await Task.sleep(until: deadline, clock: .continuous)
                        let next = activity.lastDelivery.withLock { $0 } + idle
                        if next <= ContinuousClock.now {
                            activity.idled.withLock { $0 = true }
                            await consumer.cancel()
                            return
                        }
                        deadline = next
                    }
                }
            }
            var summary = Summary()
            var lastOffset: Int64?
            reading: for try await delivery in consumer {
                activity.lastDelivery.withLock { $0 = ContinuousClock.now }
                if let offset = delivery.properties.headers?["x-stream-offset"]?.intValue {
                    if let lastOffset, offset <= lastOffset {
                        try await delivery.ack()
                        continue  // read again after a resubscription
                    }
                    lastOffset = offset
                }
                summary.delivered += 1
                let received = ReceivedEvent(routingKey: delivery.routingKey, properties: delivery.properties,
                                             body: delivery.body)
                guard let event = received.event else {
                    summary.notCloudEvents += 1
                    logger.debug("skipped a delivery that is not a CloudEvent",
                                 metadata: ["stream.offset": "\(lastOffset.map(String.init) ?? "-")"])
                    try await delivery.ack()
                    continue
                }
                let time = Self.time(of: event, properties: delivery.properties)
                if !options.follow, let time, time >= started {
                    summary.end = .caughtUp
                    break reading
                }
                if Self.matches(event, time: time, options) {
                    try await handle(received)
                    summary.matched += 1
                }
                try await delivery.ack()
            }
            group.cancelAll()
            await consumer.cancel()
            if summary.end != .caughtUp, activity.idled.withLock({ $0 }) { summary.end = .idle }
            logger.debug("history read", metadata: [
                "history.end": "\(summary.end.rawValue)", "history.delivered": "\(summary.delivered)",
                "history.matched": "\(summary.matched)",
            ])
            return summary
        }
    }

    /// What the idle watchdog and the reading loop share.
    private final class Activity: Sendable {
        /// When the last delivery (or the subscription) happened.
        let lastDelivery = Mutex(ContinuousClock.now)
        /// The watchdog ended the reading.
        let idled = Mutex(false)
    }

    /// When an event happened: its CloudEvents `time`, else the AMQP `timestamp` (whole seconds), else `nil`.
    public static func time(of event: CloudEvent, properties: AMQPProperties) -> Date? {
        if let text = event.time, let date = RFC3339.date(from: text) { return date }
        return properties.timestamp.map { Date(timeIntervalSince1970: TimeInterval($0)) }
    }

    /// Whether an event passes the filters: not before ``Options/since`` (an event without a time passes), and
    /// about ``Options/paymentId`` when one is set (`data.paymentId` or `data.providerPaymentId`).
    static func matches(_ event: CloudEvent, time: Date?, _ options: Options) -> Bool {
        if let time, time < options.since { return false }
        guard let paymentId = options.paymentId else { return true }
        return ["paymentId", "providerPaymentId"].contains { key in
            guard let value = event.data?[key] else { return false }
            return (value.stringValue ?? value.numberValue?.text) == paymentId
        }
    }

    /// The stream must exist: a passive declaration says so before anything is consumed.
    private func checkStream() async throws {
        do {
            _ = try await connection.declare(AMQPQueue(stream, kind: .stream, passive: true))
        } catch let error as AMQPError {
            throw refused(error)
        }
    }

    private func refused(_ error: AMQPError) -> any Error {
        let vhost = connection.configuration.virtualHost
        switch error.replyCode {
        case 404:
            return PayBridgeToolError(
                "the event history stream \(stream) does not exist in vhost \(vhost): run `paybridge topology` (or "
                    + "start a PayBridge worker) to declare it; it holds the events published from then on",
                underlying: error)
        case 403:
            return PayBridgeToolError(
                "access to \(stream) in vhost \(vhost) refused: the user needs read permission on it "
                    + "(\(error.replyText ?? "403"))", underlying: error)
        case let code?:
            return PayBridgeToolError("cannot read \(stream) in vhost \(vhost): \(code) \(error.replyText ?? "")",
                                      underlying: error)
        case nil:
            return error
        }
    }
}

extension HistoryReader {
    /// `--since`: an RFC 3339 date-time (`2026-12-06T10:00:00Z`), or a duration back from `now`: a whole number and
    /// `s`, `m`, `h` or `d` (`90m`, `24h`, `7d`).
    /// - Throws: ``HistoryReaderOptionError`` saying what is accepted.
    public static func since(parsing text: String, now: Date = Date()) throws(HistoryReaderOptionError) -> Date {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let date = RFC3339.date(from: trimmed) { return date }
        if let seconds = seconds(trimmed, units: ["s": 1, "m": 60, "h": 3600, "d": 86_400]) {
            return now.addingTimeInterval(-TimeInterval(seconds))
        }
        throw HistoryReaderOptionError(
            "--since: \"\(trimmed.prefix(40))\" is neither an RFC 3339 time (e.g. 2026-12-06T10:00:00Z) nor a "
                + "duration back from now (e.g. 90m, 24h, 7d)")
    }

    /// `--idle`: a duration, a whole number and `ms`, `s` or `m` (a bare number is seconds), at least 1 ms.
    /// - Throws: ``HistoryReaderOptionError``.
    public static func idle(parsing text: String) throws(HistoryReaderOptionError) -> Duration {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.hasSuffix("ms"), let milliseconds = seconds(String(trimmed.dropLast(2)) + "s", units: ["s": 1]) {
            return .milliseconds(milliseconds)
        }
        let bare = trimmed.allSatisfy { ("0"..."9").contains($0) } ? trimmed + "s" : trimmed
        if let seconds = seconds(bare, units: ["s": 1, "m": 60]) { return .seconds(seconds) }
        throw HistoryReaderOptionError("--idle: \"\(trimmed.prefix(40))\" is not a duration such as 500ms, 2s or 1m")
    }

    /// A positive whole number (at most 9 digits) followed by one of `units`; `nil` otherwise.
    private static func seconds(_ text: String, units: [Character: Int]) -> Int? {
        guard let unit = text.last, let factor = units[unit] else { return nil }
        let digits = text.dropLast()
        guard (1...9).contains(digits.count), digits.allSatisfy({ ("0"..."9").contains($0) }), let number = Int(digits),
            number > 0
        else { return nil }
        return number * factor
    }
}

/// An option of ``HistoryReader`` that cannot be read; the message names the option and what it accepts.
public struct HistoryReaderOptionError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    init(_ message: String) { self.message = message }
    public var description: String { message }
}
