public import AMQP
import Foundation
public import PayBridgeContract

extension PayBridgeTopology {
    /// The topology as a RabbitMQ definitions file, the JSON that `rabbitmqctl import_definitions FILE` and the
    /// management UI's "Import definitions" accept: top-level `exchanges`, `queues` and `bindings`, each entry with
    /// its `vhost`, flags and `arguments`.
    ///
    /// The output is deterministic (same input, same bytes: keys sorted, entries in declaration order), so it can
    /// be committed and diffed. Importing it and then calling ``declare(on:retryDelays:)`` is a no-op: both are
    /// built from ``declarations(retryDelays:)``.
    /// - Parameters:
    ///   - vhost: the virtual host every entry names; it must exist when the file is imported. Default `/`.
    ///   - retryDelays: see ``declarations(retryDelays:)``.
    /// - Returns: pretty-printed JSON, ending with a newline.
    public static func definitionsJSON(vhost: String = "/", retryDelays: [Duration] = Topology.retryDelays) -> String {
        let declarations = declarations(retryDelays: retryDelays)
        let exchanges: [[String: Any]] = declarations.exchanges.map { exchange in
            [
                "name": exchange.name, "vhost": vhost, "type": exchange.type.rawValue, "durable": exchange.durable,
                "auto_delete": exchange.autoDelete, "internal": exchange.isInternal,
                "arguments": jsonObject(exchange.arguments),
            ]
        }
        let queues: [[String: Any]] = declarations.queues.map { queue in
            [
                "name": queue.name, "vhost": vhost, "durable": queue.durable, "auto_delete": queue.autoDelete,
                "arguments": jsonObject(queue.declareArguments),
            ]
        }
        let bindings: [[String: Any]] = declarations.bindings.map { binding in
            [
                "source": binding.exchange, "vhost": vhost, "destination": binding.queue,
                "destination_type": "queue", "routing_key": binding.routingKey,
                "arguments": jsonObject(binding.arguments),
            ]
        }
        let root: [String: Any] = ["exchanges": exchanges, "queues": queues, "bindings": bindings]
        // Only strings, booleans, integers, arrays and dictionaries go in: serialization cannot fail.
        let data = try! JSONSerialization.data(withJSONObject: root,
                                               options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    /// AMQP table → JSON object (the management API's representation of arguments).
    static func jsonObject(_ table: AMQPTable) -> [String: Any] {
        var object: [String: Any] = [:]
        for (key, value) in table { object[key] = jsonObject(value) }
        return object
    }

    static func jsonObject(_ value: AMQPFieldValue) -> Any {
        switch value {
        case .void: return NSNull()
        case .bool(let b): return b
        case .float(let f): return Double(f)
        case .double(let d): return d
        case .decimal(let scale, let value): return Double(value) / pow(10, Double(scale))
        case .string(let s): return s
        case .bytes(let b): return String(decoding: b, as: UTF8.self)
        case .table(let t): return jsonObject(t)
        case .array(let a): return a.map { jsonObject($0) }
        default:
            if let integer = value.intValue { return Int(integer) }
            return NSNull()
        }
    }
}
