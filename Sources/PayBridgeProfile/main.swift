// paybridge-profile: the worker's per-command budget, stage by stage (`make bench-profile`, docs/benchmarks.md
// "Per-stage budget"): heap allocations per command (exact counts, from the allocation counter this executable
// alone links: Sources/CAllocationCounter) and CPU time per command (the thread's or the process's CPU clock,
// median of the rounds), each stage running the production code on the command `paybridge-bench` publishes.
//
// Environment:
//   PROFILE_AMQP_URL      broker and vhost (default amqp://guest:guest@127.0.0.1:5672/bench-profile); it must exist
//   PROFILE_SANDBOX_URL   a running `paybridge-sandbox` (default http://127.0.0.1:18090), Amanpay merchant 1758378
//   PROFILE_ITERATIONS    operations per round of the local stages (default 2000; network stages a quarter)
//   PROFILE_ROUNDS        timed rounds, at least 5 (default 7)
//   PROFILE_DRAIN         the output of `BENCH_DRAIN_ONLY=1 bench/run-worker-bench.sh`, shown below the stages
//   PROFILE_SITES         a row (`2`, `4`, `5a`, …): also print where that row allocates (Sites.swift)
import AMQP
import Foundation
import Logging
import PayBridge
import PayBridgeContract

let environment = ProcessInfo.processInfo.environment
let plan = Plan(iterations: max(100, Int(environment["PROFILE_ITERATIONS"] ?? "") ?? 2000),
                rounds: max(5, Int(environment["PROFILE_ROUNDS"] ?? "") ?? 7), warmup: 500)
let networkPlan = plan.scaled(down: 4)
let amqpURL = environment["PROFILE_AMQP_URL"] ?? "amqp://guest:guest@127.0.0.1:5672/bench-profile"
let sandboxURL = environment["PROFILE_SANDBOX_URL"] ?? "http://127.0.0.1:18090"

func profile() async throws {
    // As the bench runs the worker: PayBridge's log format, warning level.
    LoggingSystem.bootstrap { label in
        var handler = PlainTextLogHandler.standardError(label: label)
        handler.logLevel = .warning
        return handler
    }

    // The counter must see Swift's allocations: three objects per operation must count three, on the thread and
    // process-wide (nothing else runs yet).
    let calibrationThread = LocalStages.calibration(plan)
    let calibrationProcess = try await LocalStages.calibrationProcessWide(plan)
    guard calibrationThread.allocations == 3, calibrationProcess.allocations == 3 else {
        fail("calibration: 3 objects per operation counted as \(calibrationThread.allocations) (thread) and "
             + "\(calibrationProcess.allocations) (process): the allocation counter does not see Swift's allocations")
    }

    // Stage 3 and the inputs of the later stages: the provider call, against the sandbox, alone in the process.
    let rules = Inputs.rules()
    let provider = ProviderStages(plan: networkPlan, baseURL: sandboxURL)
    let executed = try await provider.inputs(64, rules: rules)
    let execute = try await provider.execute(rules: rules)
    try await provider.shutdown()

    // Stage 5 against the broker, alone in the process; a received delivery for row 1.
    let local = LocalStages(plan: plan, executed: executed)
    let broker = try await BrokerStages.connect(plan: networkPlan, url: amqpURL)
    let sample = try await broker.sample()
    let consumed = try await broker.consumeAndAck()
    let published = try await broker.publish(local.plans(64))
    await broker.close()

    // The stages on one thread.
    let amqpIn = local.amqpIn(sample)
    let decode = local.decode()
    let admit = local.admit()
    let sign = local.sign()
    let body = local.requestBody()
    let verify = local.verifyResponse(client: provider.client)
    let rest = execute.figures.minus(.sum([sign, body, verify]))
    let event = local.eventBuild()
    let tracingStages = TracingStages(local: local)
    let deliverySpan = try await tracingStages.deliverySpan()
    let requestSpan = tracingStages.requestSpan()
    let stamping = tracingStages.stamping()
    let tracing = Figures.sum([deliverySpan, requestSpan, stamping])
    let metrics = local.metrics()
    let logOff = local.logging(level: .warning)
    let logOn = local.logging(level: .info)

    let counted = [amqpIn, decode, admit, execute.figures, event, published.figures, consumed, tracing, metrics,
                   logOff]
    let total = Figures.sum(counted)
    let concurrentTotal = total.cpuMicros - execute.figures.cpuMicros - published.figures.cpuMicros
        + execute.concurrent + published.concurrent
    var rows = [
        Row("1 AMQP in: CommandDelivery(AMQPDelivery)", amqpIn, "a delivery as received from the command queue"),
        Row("2 decode + validate: DeliveryRules.classify", decode, "JSON parse, CloudEvent, schema validation"),
        Row("2b admit: screen, admit, seen, status-first", admit, "WorkerMemory under its lock; not a brief stage"),
        Row("3 execute: AmanpayCommandExecutor.execute", execute.figures,
            "one after the other against the sandbox; \(Row.micros(execute.concurrent)) µs at 200 in flight"),
        Row("3a · sign (AmanpaySignature.sign)", sign, "part of 3"),
        Row("3b · request body (payoutBody)", body, "part of 3"),
        Row("3c · verify + parse answer (interpret)", verify, "part of 3"),
        Row("3d · rest: request, retry runner, HTTP round trip", rest, "part of 3: 3 - 3a - 3b - 3c"),
        Row("4 event build: plan + adjust + bytes", event, "payment.response + first check, serialized, properties"),
        Row("5a publish + confirm (event + check batch)", published.figures,
            "one batch after the other; \(Row.micros(published.concurrent)) µs at 200 in flight; one event alone "
                + "\(Row.count(published.single.allocations)) allocs, \(Row.micros(published.single.cpuMicros)) µs"),
        Row("5b consume + ack", consumed, "prefetch 200, a task per delivery as ProviderQueueWorker"),
        Row("6 tracing (6a + 6b + 6c)", tracing, "PayBridgeTracer without a recorder"),
        Row("6a · delivery span: parent, withAnySpan, trace id", deliverySpan, "part of 6; async, one thread"),
        Row("6b · provider request span + traceparent", requestSpan, "part of 6; minus the headers without it"),
        Row("6c · stamp event + check", stamping, "part of 6; minus the same publish preparation untraced"),
        Row("7 metrics: ProviderMetricHandles", metrics, "in flight ±1, latency histogram, outcome counter"),
        Row("8a logging, level off: CommandLog + 2 lines", logOff, "warning configured, info lines"),
        Row("8b logging, one line written at info", logOn, "PlainTextLogHandler to /dev/null; not in the total"),
        Row("total (1, 2, 2b, 3, 4, 5a, 5b, 6, 7, 8a)", total,
            "3 and 5a one at a time; \(Row.micros(concurrentTotal)) µs with them at 200 in flight"),
    ]
    rows += drainRows(environment["PROFILE_DRAIN"] ?? "")

    let load = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3)
        .joined(separator: " ") ?? "?"
    print("""
        paybridge-profile: \(plan.iterations) operations per round (network stages \(networkPlan.iterations)), \
        median of \(plan.rounds) rounds, load average \(load)
        allocation counter calibration: 3 objects per operation counted \(Row.count(calibrationThread.allocations)) \
        (thread), \(Row.count(calibrationProcess.allocations)) (process-wide): ok

        """)
    print(render(rows))
}

do {
    try await profile()
} catch {
    fail("\(error)")
}
