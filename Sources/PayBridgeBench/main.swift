// paybridge-bench: starts one `paybridge worker`, drives it with Amanpay payout commands and measures it.
//
//   paybridge-bench <amqp-url> <commands> <latency-rate|auto> -- <worker command> [arguments…]
//
// The worker command runs with the bench's environment (configure it there); its output goes to the file named by
// BENCH_WORKER_LOG (default: discarded).
//
// Phase 1 (drain): publishes `commands` while no worker runs, then starts the worker and times it working off
// that backlog, from the first `payment.response` event to the last: the worker's commands/s, and the worker's
// CPU time per command over the same span. Phase 2 (publish and drain): publishes `commands` at once while the
// worker consumes and times until every event arrived: commands/s when the driver's publishing (and the broker
// taking in the commands) share the machine too. Phase 3 (latency): publishes at `latency-rate` commands/s
// (`auto`: half the drain rate) for 10 s and reports p50/p99 of command publish → event arrival. Then SIGTERM to
// the worker and its peak RSS (VmHWM of /proc/<pid>/status). Prints one `key=value` line.
//
// BENCH_DRAIN_ONLY=1 runs phase 1 only (quick A/B comparisons of two builds).
// BENCH_OTHER_PIDS="broker=<pid>,sandbox=<pid>" adds the CPU time those processes used per command in phase 1
// (`<name>_cpu_us_per_command`), to see where the machine's time goes.
import AMQP
import BenchSupport
import Foundation
import Logging
import PayBridge
import PayBridgeContract
import ProviderCore
import StrictJSON
import Synchronization
import PayBridgeTopology

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

/// Context switches (voluntary, involuntary) of all threads of a process so far, from /proc/<pid>/task/*/status.
/// Threads that exited are not counted, so read it over a span in which the process keeps its threads.
func contextSwitches(pid: String) -> (voluntary: Int, involuntary: Int) {
    guard let tasks = try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task") else { return (-1, -1) }
    var total = (voluntary: 0, involuntary: 0)
    for task in tasks {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/status", encoding: .utf8) else { continue }
        for line in status.split(separator: "\n") {
            let value = Int(line.split(separator: "\t").last.map { $0.trimmingCharacters(in: .whitespaces) } ?? "") ?? 0
            if line.hasPrefix("voluntary_ctxt_switches:") { total.voluntary += value }
            if line.hasPrefix("nonvoluntary_ctxt_switches:") { total.involuntary += value }
        }
    }
    return total
}

/// Send times by command id, and latencies once the event arrived.
final class Ledger: Sendable {
    private let state = Mutex<(sent: [String: ContinuousClock.Instant], latencies: [Duration],
                               first: ContinuousClock.Instant?, last: ContinuousClock.Instant?)>(([:], [], nil, nil))
    /// Called once, when the first event arrives after ``reset()`` (outside the lock).
    private let onFirst = Mutex<(@Sendable () -> Void)?>(nil)
    func sent(_ id: String, at instant: ContinuousClock.Instant) { state.withLock { $0.sent[id] = instant } }
    func arrived(_ id: String) {
        let now = ContinuousClock.now
        let isFirst = state.withLock { s -> Bool in
            guard let start = s.sent.removeValue(forKey: id) else { return false }
            s.latencies.append(now - start)
            s.last = now
            if s.first == nil {
                s.first = now
                return true
            }
            return false
        }
        if isFirst, let action = onFirst.withLock({ action in defer { action = nil }; return action }) { action() }
    }
    /// Forgets the first/last arrival times; `action` runs when the next event arrives.
    func reset(onFirstArrival action: (@Sendable () -> Void)? = nil) {
        state.withLock { $0.first = nil; $0.last = nil }
        onFirst.withLock { $0 = action }
    }
    var count: Int { state.withLock { $0.latencies.count } }
    var first: ContinuousClock.Instant? { state.withLock { $0.first } }
    var last: ContinuousClock.Instant? { state.withLock { $0.last } }
    func takeLatencies() -> [Duration] { state.withLock { s in defer { s.latencies = [] }; return s.latencies } }
}

func command(_ id: String) -> [UInt8] { BenchCommand.payoutBody(id) }

func percentile(_ sorted: [Duration], _ p: Double) -> Double {
    guard !sorted.isEmpty else { return .nan }
    let d = sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
    return Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15
}

func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }

/// `paybridge-bench --compute <n>`: the per-command work of the worker's contract code alone, in one thread with no
/// I/O (decode + schema validation of the command, build and serialize its `payment.response` event), as CPU µs per
/// command. Tells how much of the worker's CPU per command is computation and how much is I/O and thread hand-offs.
if CommandLine.arguments.count == 3, CommandLine.arguments[1] == "--compute", let n = Int(CommandLine.arguments[2]) {
    let decoder = CommandDecoder()
    let bodies = (0..<1000).map { command("bench-compute-\($0)") }
    let raw = StrictJSON.JSONValue.object([
        "paymentId": .string("p"), "status": .string("PENDING"), "transactionId": .string("123456"),
        "amount": .string("250.50"), "currency": .string("BDT"),
    ])
    let cpuBefore = cpuSeconds(pid: "self")
    var bytes = 0
    for i in 0..<n {
        guard case .success(let command) = decoder.decode(bodies[i % bodies.count],
                                                          routingKey: PaymentCommandKind.amanpayPayout.routingKey)
        else { fatalError("the bench command did not decode") }
        let outcome = PaymentOutcome(
            commandId: command.id, provider: .amanpay, operation: command.operation, paymentId: command.id,
            providerPaymentId: "123456", status: .processing, final: false, providerStatus: "PENDING", amount: "250.50",
            currency: "BDT", attempts: 1, raw: raw)
        bytes &+= OutcomeEvents.response(outcome).body.count
    }
    let perCommand = (cpuSeconds(pid: "self") - cpuBefore) / Double(n) * 1e6
    print(String(format: "compute_cpu_us_per_command=%.1f (decode+validate+event+serialize, %d bytes out)", perCommand, bytes / n))
    exit(0)
}

/// `paybridge-bench --http <url> <n> [concurrency]`: the provider transport alone (`ProviderHTTPTransport.post`,
/// AsyncHTTPClient, from Swift tasks as the worker calls it): `n` POSTs of a small JSON body to `url` with
/// `concurrency` (default 200) in flight, as CPU µs per request of this process. The floor under the worker's CPU
/// per command that the HTTP round trip sets. `--http-nio` runs the same against `NIOHTTPTransport` (the minimal
/// HTTP/1.1 client on SwiftNIO), for A/B comparisons of the two transports.
if CommandLine.arguments.count >= 4, ["--http", "--http-nio"].contains(CommandLine.arguments[1]),
    let n = Int(CommandLine.arguments[3])
{
    let url = CommandLine.arguments[2]
    let concurrency = CommandLine.arguments.count > 4 ? Int(CommandLine.arguments[4]) ?? 200 : 200
    let logger = Logger(label: "bench.http", factory: { _ in SwiftLogNoOpLogHandler() })
    let body = #"{"merchantId":"1758378","paymentId":"bench","signature":"00"}"#
    let nio = CommandLine.arguments[1] == "--http-nio"
    let asyncHTTPClient = nio ? nil : ProviderHTTPTransport()
    let nioTransport = nio ? NIOHTTPTransport() : nil
    @Sendable func post() async -> Bool {
        let response: TransportResponse?
        if let asyncHTTPClient {
            response = try? await asyncHTTPClient.post(
                url: url, headers: [("Accept", "application/json")], body: body, provider: .amanpay,
                operation: "status", logger: logger)
        } else {
            response = try? await nioTransport!.post(
                url: url, headers: [("Accept", "application/json")], body: body, provider: .amanpay,
                operation: "status", logger: logger)
        }
        return response != nil
    }
    func run(_ count: Int) async -> Int {
        await withTaskGroup(of: Bool.self) { group in
            var started = 0, ok = 0
            func add() {
                group.addTask { await post() }
                started += 1
            }
            while started < min(concurrency, count) { add() }
            while let result = await group.next() {
                ok += result ? 1 : 0
                if started < count { add() }
            }
            return ok
        }
    }
    _ = await run(2000)  // connections and caches warm
    let cpuBefore = cpuSeconds(pid: "self")
    let clock = ContinuousClock(), start = clock.now
    let ok = await run(n)
    let elapsed = seconds(clock.now - start)
    let perRequest = (cpuSeconds(pid: "self") - cpuBefore) / Double(n) * 1e6
    try? await asyncHTTPClient?.shutdown()
    try? await nioTransport?.shutdown()
    print("transport=\(nio ? "nio" : "async-http-client") " + String(
        format: "http_requests=%d answered=%d requests_per_s=%.0f http_cpu_us_per_request=%.1f concurrency=%d",
        n, ok, Double(n) / elapsed, perRequest, concurrency))
    exit(0)
}

let args = CommandLine.arguments
guard args.count >= 6, let separator = args.firstIndex(of: "--"), separator == 4, separator + 1 < args.count,
    let total = Int(args[2]), total > 1
else {
    FileHandle.standardError.write(Data(
        "usage: paybridge-bench <amqp-url> <commands> <latency-rate|auto> -- <worker command> [arguments…]\n".utf8))
    exit(2)
}
let url = args[1]
let fixedRate = Double(args[3])
var logger = Logger(label: "paybridge.bench")
logger.logLevel = .warning
let connection = try await AMQPConnection.connect(url: url, logger: logger)
try await BrokerSetup.declare(on: connection)
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

/// Publishes `count` commands at once (each confirmed), ids `bench-<run>-<prefix><index>`.
func publishBacklog(_ count: Int, prefix: String) async throws {
    try await withThrowingDiscardingTaskGroup { group in
        for index in 0..<count {
            let id = "bench-\(run)-\(prefix)\(index)"
            ledger.sent(id, at: .now)
            group.addTask { try await send(id) }
            if index % 2000 == 1999 { try await Task.sleep(for: .milliseconds(1)) }  // let confirms drain
        }
    }
}

func waitForEvents(_ count: Int) async throws {
    while ledger.count < count { try await Task.sleep(for: .milliseconds(20)) }
}

// Phase 1: the worker works off a backlog published before it started.
try await publishBacklog(total, prefix: "d")
let others: [(name: String, pid: String)] = (ProcessInfo.processInfo.environment["BENCH_OTHER_PIDS"] ?? "")
    .split(separator: ",").compactMap { entry in
        let parts = entry.split(separator: "=")
        return parts.count == 2 ? (String(parts[0]), String(parts[1])) : nil
    }
/// `BENCH_WORKERS` (default 1): how many worker processes work off the backlog together (`make bench-scale`).
let workerCount = max(1, Int(ProcessInfo.processInfo.environment["BENCH_WORKERS"] ?? "1") ?? 1)
let workerPids = Mutex<[String]>([])
/// CPU seconds of each worker and of `others` when the first event of phase 1 arrived.
let cpuAtFirstEvent = Mutex<[Double]>([])
/// The first worker's context switches (all threads) when the first event of phase 1 arrived.
let switchesAtFirstEvent = Mutex<(voluntary: Int, involuntary: Int)>((0, 0))
ledger.reset(onFirstArrival: {
    let pids = workerPids.withLock { $0 } + others.map(\.pid)
    cpuAtFirstEvent.withLock { $0 = pids.map { cpuSeconds(pid: $0) } }
    switchesAtFirstEvent.withLock { $0 = contextSwitches(pid: pids[0]) }
})
let workerLogPath = ProcessInfo.processInfo.environment["BENCH_WORKER_LOG"] ?? "/dev/null"
var launched: [Process] = []
for index in 0..<workerCount {
    let worker = Process()
    worker.executableURL = URL(fileURLWithPath: args[separator + 1])
    worker.arguments = Array(args[(separator + 2)...])
    let log = workerCount == 1 || workerLogPath == "/dev/null" ? workerLogPath : "\(workerLogPath).\(index + 1)"
    // If it cannot be created, the handle below is nil and the worker writes to the bench's own output instead.
    _ = FileManager.default.createFile(atPath: log, contents: nil)
    // One handle for both streams: two handles would each write from offset 0 and overwrite each other's lines.
    let handle = FileHandle(forWritingAtPath: log)
    worker.standardOutput = handle
    worker.standardError = handle
    launched.append(worker)
}
let workers = launched
// Every pid is known before the first event can arrive (the CPU snapshot reads them).
for worker in workers { try worker.run() }
workerPids.withLock { $0 = workers.map { String($0.processIdentifier) } }
let worker = workers[0]
let pid = String(worker.processIdentifier)
try await waitForEvents(total)
let drainSpan = seconds(ledger.last! - ledger.first!)
let drainThroughput = Double(total - 1) / drainSpan
let allWorkerPids = workerPids.withLock { $0 }
let allCPU = zip(allWorkerPids + others.map(\.pid), cpuAtFirstEvent.withLock { $0 }).map { pid, before in
    (cpuSeconds(pid: pid) - before) / Double(total - 1) * 1e6
}
/// Every worker's CPU per command, summed; then `others`' in order.
let drainCPU = [allCPU.prefix(workerCount).reduce(0, +)] + allCPU.dropFirst(workerCount)
let drainWorkerCPU = drainCPU[0]
let drainSwitches = contextSwitches(pid: pid)
let switchesBefore = switchesAtFirstEvent.withLock { $0 }
/// The worker's context switches per command in phase 1 (all its threads; voluntary = it went to sleep).
let drainSwitchesText = String(
    format: " drain_worker_voluntary_switches_per_command=%.2f drain_worker_involuntary_switches_per_command=%.2f",
    Double(drainSwitches.voluntary - switchesBefore.voluntary) / Double(total - 1),
    Double(drainSwitches.involuntary - switchesBefore.involuntary) / Double(total - 1))
let othersCPU = zip(others, drainCPU.dropFirst())
    .map { other, cpu in " \(other.name)_cpu_us_per_command=" + String(format: "%.0f", cpu) }.joined()
_ = ledger.takeLatencies()

/// SIGTERM to the worker (it drains and exits), then the result line, then the driver's own cleanup.
func finish(_ figures: String) async -> Never {
    for worker in workers { worker.terminate() }
    for worker in workers { worker.waitUntilExit() }
    let exitStatus = workers.map(\.terminationStatus).max() ?? 0
    print(figures + drainSwitchesText + String(format: " worker_exit=%d workers=%d", exitStatus, workerCount) + othersCPU)
    listener.cancel()
    await connection.close()
    exit(0)
}

if ProcessInfo.processInfo.environment["BENCH_DRAIN_ONLY"] == "1" {
    await finish(String(format: "commands=%d drain_commands_per_s=%.0f drain_worker_cpu_us_per_command=%.0f",
                        total, drainThroughput, drainWorkerCPU))
}

// Phase 2: the driver publishes a backlog while the worker consumes it.
ledger.reset()
let workerCPUBefore = cpuSeconds(pid: pid)
let driverCPUBefore = cpuSeconds(pid: "self")
let start = ContinuousClock.now
try await publishBacklog(total, prefix: "t")
try await waitForEvents(total)
let throughput = Double(total) / seconds(ledger.last! - start)
let workerCPUPerCommand = (cpuSeconds(pid: pid) - workerCPUBefore) / Double(total) * 1e6
let driverCPUPerCommand = (cpuSeconds(pid: "self") - driverCPUBefore) / Double(total) * 1e6
_ = ledger.takeLatencies()

// Phase 3: latency at a fixed rate below saturation.
let rate = fixedRate ?? drainThroughput / 2
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
try await waitForEvents(latencyCommands)
let latencies = ledger.takeLatencies().sorted()
let peakRSS = Double(kilobytes("VmHWM", pid: pid)) / 1024
await finish(String(format: "commands=%d drain_commands_per_s=%.0f drain_worker_cpu_us_per_command=%.0f publish_and_drain_commands_per_s=%.0f publish_and_drain_worker_cpu_us_per_command=%.0f driver_cpu_us_per_command=%.0f latency_rate=%.0f p50_ms=%.1f p99_ms=%.1f worker_peak_rss_mb=%.1f",
                    total, drainThroughput, drainWorkerCPU, throughput, workerCPUPerCommand, driverCPUPerCommand, rate,
                    percentile(latencies, 0.50), percentile(latencies, 0.99), peakRSS))
