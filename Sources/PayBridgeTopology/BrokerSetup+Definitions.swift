import AMQP
import Foundation
public import PayBridgeContract
import StrictJSON

extension BrokerSetup {
    /// The topology as a RabbitMQ definitions file, the JSON that `rabbitmqctl import_definitions FILE` and the
    /// management UI's "Import definitions" accept: top-level `exchanges`, `queues` and `bindings`, each entry with
    /// its `vhost`, flags and `arguments`.
    ///
    /// The output is deterministic (same input, same bytes: fixed key order, argument keys sorted, entries in
    /// declaration order), so it can be committed and diffed. Importing it and then calling
    /// ``declare(on:retryDelays:reconcileSchedule:historyRetention:logger:)`` is a no-op: both are built from
    /// ``declarations(retryDelays:reconcileSchedule:historyRetention:)``.
    /// - Parameters:
    ///   - vhost: the virtual host every entry names; it must exist when the file is imported. Default `/`.
    ///   - retryDelays: see ``declarations(retryDelays:reconcileSchedule:historyRetention:)``.
    ///   - reconcileSchedule: see ``declarations(retryDelays:reconcileSchedule:historyRetention:)``.
    ///   - historyRetention: see ``declarations(retryDelays:reconcileSchedule:historyRetention:)``.
    ///   - roles: also grant the three ``BrokerRole``s their permissions on `vhost` (top-level `permissions`). The
    ///     users must exist before such a file is imported (RabbitMQ refuses permissions of an unknown user); the
    ///     file carries no users and no passwords. Default `true`.
    /// - Returns: JSON indented by two spaces, ending with a newline.
    public static func definitionsJSON(vhost: String = "/", retryDelays: [Duration] = Topology.retryDelays,
                                       reconcileSchedule: ReconcileSchedule = .default,
                                       historyRetention: HistoryRetention = .default, roles: Bool = true) -> String {
        let declarations = declarations(retryDelays: retryDelays, reconcileSchedule: reconcileSchedule,
                                        historyRetention: historyRetention)
        func object(_ members: [(String, JSONValue)]) -> JSONValue {
            .object(JSONObject(members.map { JSONMember($0.0, $0.1) }))
        }
        let exchanges: [JSONValue] = declarations.exchanges.map { exchange in
            object([
                ("name", .string(exchange.name)), ("vhost", .string(vhost)), ("type", .string(exchange.type.rawValue)),
                ("durable", .bool(exchange.durable)), ("auto_delete", .bool(exchange.autoDelete)),
                ("internal", .bool(exchange.isInternal)), ("arguments", JSONValue(exchange.arguments)),
            ])
        }
        let queues: [JSONValue] = declarations.queues.map { queue in
            object([
                ("name", .string(queue.name)), ("vhost", .string(vhost)), ("durable", .bool(queue.durable)),
                ("auto_delete", .bool(queue.autoDelete)), ("arguments", JSONValue(queue.declareArguments)),
            ])
        }
        let bindings: [JSONValue] = declarations.bindings.map { binding in
            object([
                ("source", .string(binding.exchange)), ("vhost", .string(vhost)),
                ("destination", .string(binding.queue)), ("destination_type", .string("queue")),
                ("routing_key", .string(binding.routingKey)), ("arguments", JSONValue(binding.arguments)),
            ])
        }
        var members: [(String, JSONValue)] = []
        if roles {
            members.append(("permissions", .array(BrokerRole.all.map { role in
                object([
                    ("user", .string(role.user)), ("vhost", .string(vhost)), ("configure", .string(role.configure)),
                    ("write", .string(role.write)), ("read", .string(role.read)),
                ])
            })))
        }
        members += [("exchanges", .array(exchanges)), ("queues", .array(queues)), ("bindings", .array(bindings))]
        let root = object(members)
        return root.prettyText + "\n"
    }
}

/// AMQP arguments as the definitions file writes them (the management API's representation).
extension JSONValue {
    /// An AMQP table as an object with sorted keys.
    init(_ table: AMQPTable) {
        let sorted = table.entries.sorted { $0.key < $1.key }
        self = .object(JSONObject(sorted.map { JSONMember($0.key, JSONValue($0.value)) }))
    }

    init(_ value: AMQPFieldValue) {
        switch value {
        case .void: self = .null
        case .bool(let b): self = .bool(b)
        case .float(let f): self = .number(Double(f))
        case .double(let d): self = .number(d)
        case .decimal(let scale, let value): self = .number(Double(value) / pow(10, Double(scale)))
        case .string(let s): self = .string(s)
        case .bytes(let b): self = .string(String(decoding: b, as: UTF8.self))
        case .table(let t): self = JSONValue(t)
        case .array(let a): self = .array(a.map { JSONValue($0) })
        default: self = value.intValue.map { .number(JSONNumber(Int($0))) } ?? .null
        }
    }

    /// A double as its shortest text; `null` when it is not finite (JSON has no infinity).
    private static func number(_ d: Double) -> JSONValue {
        d.isFinite ? .number(JSONNumber("\(d)") ?? JSONNumber(0)) : .null
    }
}
