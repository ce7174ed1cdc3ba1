import AMQPValues
import PayBridgeContract

/// What PayBridge reads from a command delivery's AMQP metadata, validated: nothing a producer puts in a header
/// can trap, loop or misroute the worker.
///
/// - ``Topology/Headers/attempt``: absent → 1; an integer in 1...`Int32.max` → that number; anything else
///   (zero, negative, larger, not an integer) makes the command invalid (`INVALID_HEADER`).
/// - ``Topology/Headers/originalRoutingKey``: absent → the delivery's routing key; a string of 1...255 UTF-8
///   bytes (an AMQP short string) → that key; anything else makes the command invalid.
/// - ``Topology/Headers/replayed``: boolean `true` → a replayed dead letter (a create goes status-first); any other
///   value is ignored (it can only make the worker more careful, never less).
/// - Headers nested deeper than ``AMQPTable/maximumDecodedDepth`` make it invalid (`HEADERS_TOO_DEEP`), and so do
///   properties, header keys or header strings that are not UTF-8 (`INVALID_HEADER`).
///
/// An invalid command is dead-lettered under the delivery's own routing key, with attempt 1.
package struct CommandHeaders: Equatable, Sendable {
    /// Why the metadata makes the command unacceptable.
    package struct Problem: Equatable, Sendable {
        package var code: String
        package var message: String
    }

    package static let maximumAttempt = Int(Int32.max)
    package static let maximumRoutingKeyBytes = AMQPProperties.maximumShortStringBytes

    /// 1 for a first delivery; the broker-side attempt for retries.
    package var attempt: Int
    /// The routing key the command was first published with (what its type must agree with).
    package var routingKey: String
    package var problem: Problem?
    /// `true` when `paybridge dead-letters replay` re-published the command.
    package var replayed = false

    package init(attempt: Int, routingKey: String, problem: Problem? = nil) {
        self.attempt = attempt
        self.routingKey = routingKey
        self.problem = problem
    }
}

extension CommandHeaders {
    package init(properties: AMQPProperties, deliveryRoutingKey: String) {
        attempt = 1
        routingKey = deliveryRoutingKey
        if properties.decodingProblems.contains(.headersTooDeep) {
            problem = Problem(code: "HEADERS_TOO_DEEP", message: "the message headers nest tables or arrays deeper "
                              + "than \(AMQPTable.maximumDecodedDepth) levels")
            return
        }
        if properties.decodingProblems.contains(.notUTF8) {
            problem = Problem(code: "INVALID_HEADER", message: "a message property, header key or header string is "
                              + "not UTF-8")
            return
        }
        guard let headers = properties.headers else { return }
        if case .bool(true)? = headers[Topology.Headers.replayed] { replayed = true }
        if let value = headers[Topology.Headers.attempt] {
            guard let number = value.intValue, (1...Int64(Self.maximumAttempt)).contains(number) else {
                problem = Problem(code: "INVALID_HEADER", message: "\(Topology.Headers.attempt) must be an integer "
                                  + "in 1...\(Self.maximumAttempt) (got \(Self.describe(value)))")
                return
            }
            attempt = Int(number)
        }
        if let value = headers[Topology.Headers.originalRoutingKey] {
            guard let key = value.stringValue, (1...Self.maximumRoutingKeyBytes).contains(key.utf8.count) else {
                attempt = 1
                problem = Problem(code: "INVALID_HEADER", message: "\(Topology.Headers.originalRoutingKey) must be "
                                  + "a string of 1...\(Self.maximumRoutingKeyBytes) bytes")
                return
            }
            routingKey = key
        }
    }

    /// A header value for an error message: its kind, and its value when it is a short number.
    package static func describe(_ value: AMQPFieldValue) -> String {
        if let number = value.intValue { return String(number) }
        switch value {
        case .string(let s): return "a string of \(s.utf8.count) bytes"
        case .bytes(let b): return "\(b.count) bytes"
        case .table: return "a table"
        case .array: return "an array"
        case .void: return "void"
        default: return "\(value)"
        }
    }
}
