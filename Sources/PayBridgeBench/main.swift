// paybridge-bench: drives one running `paybridge worker` with Amanpay payout commands and measures it.
//
//   paybridge-bench <amqp-url> <worker-pid> [commands] [latency-rate]
//
// Phase 1 (throughput): publishes `commands` (default 20000) at once and times until every
// `payment.response` event arrived: commands/s. Phase 2 (latency): publishes at `latency-rate` commands/s
// (default: half the measured throughput) for 10 s and reports p50/p99 of command publish → event arrival.
// Also the CPU time the worker and the driver used per command in phase 1, and the worker's peak RSS (VmHWM of
// /proc/<worker-pid>/status). Prints one `key=value` line.
import AMQP
import Foundation
import Logging
import PayBridge
import PayBridgeContract
import Synchronization

func kilobytes(_ field: String, pid: String) -> Int {
    guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return -1 }
    for line in status.split(separator: "\n") where line.hasPrefix(field + ":") {
        return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? -1
    }
    return -1
}

/// CPU time (user + system) a process has used so far, from /proc/<pid>/stat (fields 14 and 15, clock ticks).
func cpuSeconds(pid: String) -> Double {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
        let close = stat.lastIndex(of: ")")
    else { return .nan }
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return .nan }
    return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
}

/// Send times by command id, and latencies once the event arrived.
final class Ledger: Sendable {
    private let state = Mutex<(sent: [String: ContinuousClock.Instant], latencies: [Duration], last: ContinuousClock.Instant?)>(([:], [], nil))
    func sent(_ id: String, at instant: ContinuousClock.Instant) { state.withLock { $0.sent[id] = instant } }
    func arrived(_ id: String) {
        let now = ContinuousClock.now
        state.withLock { s in
            guard let start = s.sent.removeValue(forKey: id) else { return }
            s.latencies.append(now - start)
            s.last = now
        }
    }
    var count: Int { state.withLock { $0.latencies.count } }
    var last: ContinuousClock.Instant? { state.withLock { $0.last } }
    func takeLatencies() -> [Duration] { state.withLock { s in defer { s.latencies = [] }; return s.latencies } }
}

func command(_ id: String) -> [UInt8] {
    let event: PayBridgeContract.JSONValue = .object([
        "specversion": .string("1.0"), "id": .string(id), "type": .string(PaymentCommandKind.amanpayPayout.type),
        "source": .string("/bench"), "time": .string("2026-11-21T00:00:00Z"),
        "data": .object([
            "paymentId": .string(id), "amount": .string("250.50"), "currency": .string("BDT"),
            "customerEmail": .string("bench@example.com"), "customerName": .string("Bench Payee"),
            "paymentMethod": .string("bkash"), "recipientType": .string("bank_account"),
        ]),
    ])
    return event.serialized()
}

func percentile(_ sorted: [Duration], _ p: Double) -> Double {
    guard !sorted.isEmpty else { return .nan }
    let d = sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
    return Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15
}

let args = CommandLine.arguments
guard args.count >= 3 else {
    FileHandle.standardError.write(Data("usage: paybridge-bench <amqp-url> <worker-pid> [commands] [latency-rate]\n".utf8))
    exit(2)
}
let url = args[1]
let workerPid = args[2]
let total = args.count > 3 ? Int(args[3]) ?? 20_000 : 20_000
var logger = Logger(label: "paybridge.bench")
logger.logLevel = .warning
let connection = try await AMQPConnection.connect(url: url, logger: logger)
try await PayBridgeTopology.declare(on: connection)
let eventsQueue = "bench.events.\(UUID().uuidString.prefix(8))"
try await connection.declare(AMQPQueue(eventsQueue, durable: false, exclusive: true, autoDelete: true))
try await connection.bind(queue: eventsQueue, exchange: Topology.outcomesExchange, routingKey: "amanpay.payout.*")
let ledger = Ledger()
let consumer = try await connection.consume(queue: eventsQueue, prefetch: 2000)
let listener = Task {
    for try await delivery in consumer {
        if let id = delivery.properties.correlationId { ledger.arrived(id) }
        try? await delivery.ack()
    }
}
let properties = AMQPProperties(contentType: CloudEvent.structuredContentType, persistent: true)
let run = UUID().uuidString.prefix(6)

/// Publishes one payout command with a confirm.
@Sendable func send(_ id: String) async throws {
    var p = properties
    p.messageId = id
    try await connection.publish(command(id), exchange: Topology.commandsExchange,
                                 routingKey: PaymentCommandKind.amanpayPayout.routingKey, properties: p)
}

// Phase 1: throughput with a backlog.
let workerCPUBefore = cpuSeconds(pid: workerPid)
let driverCPUBefore = cpuSeconds(pid: "self")
let start = ContinuousClock.now
try await withThrowingDiscardingTaskGroup { group in
    for index in 0..<total {
        let id = "bench-\(run)-t\(index)"
        ledger.sent(id, at: .now)
        group.addTask { try await send(id) }
        if index % 2000 == 1999 { try await Task.sleep(for: .milliseconds(1)) }  // let confirms drain
    }
}
while ledger.count < total { try await Task.sleep(for: .milliseconds(20)) }
let elapsed = ledger.last! - start
let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
let throughput = Double(total) / seconds
let workerCPUPerCommand = (cpuSeconds(pid: workerPid) - workerCPUBefore) / Double(total) * 1e6
let driverCPUPerCommand = (cpuSeconds(pid: "self") - driverCPUBefore) / Double(total) * 1e6
_ = ledger.takeLatencies()

// Phase 2: latency at a fixed rate below saturation.
let rate = args.count > 4 ? Double(args[4]) ?? throughput / 2 : throughput / 2
let latencyCommands = Int(rate * 10)
let interval = Duration.seconds(1.0 / rate)
let phaseStart = ContinuousClock.now
try await withThrowingDiscardingTaskGroup { group in
    for index in 0..<latencyCommands {
        let due = phaseStart + interval * index
        if due > .now { try await Task.sleep(until: due) }
        let id = "bench-\(run)-l\(index)"
        ledger.sent(id, at: .now)
        group.addTask { try await send(id) }
    }
}
while ledger.count < latencyCommands { try await Task.sleep(for: .milliseconds(20)) }
let latencies = ledger.takeLatencies().sorted()
print(String(format: "commands=%d seconds=%.2f commands_per_s=%.0f worker_cpu_us_per_command=%.0f driver_cpu_us_per_command=%.0f latency_rate=%.0f p50_ms=%.1f p99_ms=%.1f worker_peak_rss_mb=%.1f",
             total, seconds, throughput, workerCPUPerCommand, driverCPUPerCommand, rate, percentile(latencies, 0.50),
             percentile(latencies, 0.99), Double(kilobytes("VmHWM", pid: workerPid)) / 1024))
listener.cancel()
await connection.close()
