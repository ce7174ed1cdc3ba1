import AMQP
import Foundation
public import PayBridgeContract

extension PayBridgeTopology {
    /// The topology as a RabbitMQ definitions file, the JSON that `rabbitmqctl import_definitions FILE` and the
    /// management UI's "Import definitions" accept: top-level `exchanges`, `queues` and `bindings`, each entry with
    /// its `vhost`, flags and `arguments`.
    ///
    /// The output is deterministic (same input, same bytes: fixed key order, argument keys sorted, entries in
    /// declaration order), so it can be committed and diffed. Importing it and then calling
    /// ``declare(on:retryDelays:)`` is a no-op: both are built from ``declarations(retryDelays:)``.
    /// - Parameters:
    ///   - vhost: the virtual host every entry names; it must exist when the file is imported. Default `/`.
    ///   - retryDelays: see ``declarations(retryDelays:)``.
    /// - Returns: JSON indented by two spaces, ending with a newline.
    public static func definitionsJSON(vhost: String = "/", retryDelays: [Duration] = Topology.retryDelays) -> String {
        let declarations = declarations(retryDelays: retryDelays)
        let exchanges: [DefinitionsJSON] = declarations.exchanges.map { exchange in
            .object([
                ("name", .string(exchange.name)), ("vhost", .string(vhost)), ("type", .string(exchange.type.rawValue)),
                ("durable", .bool(exchange.durable)), ("auto_delete", .bool(exchange.autoDelete)),
                ("internal", .bool(exchange.isInternal)), ("arguments", DefinitionsJSON(exchange.arguments)),
            ])
        }
        let queues: [DefinitionsJSON] = declarations.queues.map { queue in
            .object([
                ("name", .string(queue.name)), ("vhost", .string(vhost)), ("durable", .bool(queue.durable)),
                ("auto_delete", .bool(queue.autoDelete)), ("arguments", DefinitionsJSON(queue.declareArguments)),
            ])
        }
        let bindings: [DefinitionsJSON] = declarations.bindings.map { binding in
            .object([
                ("source", .string(binding.exchange)), ("vhost", .string(vhost)),
                ("destination", .string(binding.queue)), ("destination_type", .string("queue")),
                ("routing_key", .string(binding.routingKey)), ("arguments", DefinitionsJSON(binding.arguments)),
            ])
        }
        let root = DefinitionsJSON.object([
            ("exchanges", .array(exchanges)), ("queues", .array(queues)), ("bindings", .array(bindings)),
        ])
        var output = ""
        root.write(to: &output, indent: "")
        return output + "\n"
    }
}

/// A small JSON writer with a fixed key order, so the definitions file is stable and reads like RabbitMQ's own
/// export (Foundation's pretty printer differs between platforms).
enum DefinitionsJSON {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([DefinitionsJSON])
    case object([(String, DefinitionsJSON)])

    /// An AMQP table as an object with sorted keys (the management API's representation of arguments).
    init(_ table: AMQPTable) {
        self = .object(table.entries.sorted { $0.key < $1.key }.map { ($0.key, DefinitionsJSON($0.value)) })
    }

    init(_ value: AMQPFieldValue) {
        switch value {
        case .void: self = .null
        case .bool(let b): self = .bool(b)
        case .float(let f): self = .double(Double(f))
        case .double(let d): self = .double(d)
        case .decimal(let scale, let value): self = .double(Double(value) / pow(10, Double(scale)))
        case .string(let s): self = .string(s)
        case .bytes(let b): self = .string(String(decoding: b, as: UTF8.self))
        case .table(let t): self = DefinitionsJSON(t)
        case .array(let a): self = .array(a.map { DefinitionsJSON($0) })
        default: self = value.intValue.map { .int($0) } ?? .null
        }
    }

    func write(to output: inout String, indent: String) {
        switch self {
        case .null: output += "null"
        case .bool(let b): output += b ? "true" : "false"
        case .int(let i): output += String(i)
        case .double(let d): output += d.isFinite ? "\(d)" : "null"
        case .string(let s): Self.writeString(s, to: &output)
        case .array(let elements):
            guard !elements.isEmpty else { output += "[]"; return }
            output += "[\n"
            for (index, element) in elements.enumerated() {
                output += indent + "  "
                element.write(to: &output, indent: indent + "  ")
                output += index == elements.count - 1 ? "\n" : ",\n"
            }
            output += indent + "]"
        case .object(let members):
            guard !members.isEmpty else { output += "{}"; return }
            output += "{\n"
            for (index, (key, value)) in members.enumerated() {
                output += indent + "  "
                Self.writeString(key, to: &output)
                output += ": "
                value.write(to: &output, indent: indent + "  ")
                output += index == members.count - 1 ? "\n" : ",\n"
            }
            output += indent + "}"
        }
    }

    static func writeString(_ string: String, to output: inout String) {
        output += "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            case _ where scalar.value < 0x20:
                output += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count)
                    + String(scalar.value, radix: 16)
            default: output.unicodeScalars.append(scalar)
            }
        }
        output += "\""
    }
}
