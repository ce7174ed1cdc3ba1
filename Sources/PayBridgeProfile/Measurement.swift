import CAllocationCounter
import Glibc
import Synchronization

/// Where a stage's allocations and CPU time are counted.
enum Scope: String, Sendable {
    /// The calling thread only: its own allocation counter and `CLOCK_THREAD_CPUTIME_ID`. Exact; the stage must not
    /// leave the thread (checked).
    case thread
    /// Every thread of the process: the global atomic counters and `CLOCK_PROCESS_CPUTIME_ID`. For stages that
    /// hand work to other threads (the AMQP I/O thread, the HTTP transport's event loops); exact only while nothing
    /// else in the process allocates, which the profiler arranges by running these stages alone.
    case process
}

/// A stage's figures per operation (per command).
struct Figures: Sendable {
    var allocations: Double
    var bytes: Double
    /// Median of the rounds' CPU time per operation, in microseconds.
    var cpuMicros: Double
    var rounds: [Double]
    var scope: Scope
    /// Process-wide: the lowest and highest count of the allocation passes.
    var allocationRange: ClosedRange<Double>? = nil
}

/// How long each stage runs.
struct Plan: Sendable {
    /// Operations per round (and in the allocation pass).
    var iterations: Int
    /// Timed rounds; the CPU figure is their median.
    var rounds: Int
    /// Operations run first, untimed (caches, lazily made statics, connection pools).
    var warmup: Int

    /// Allocation passes of a process-wide stage.
    static let processAllocationPasses = 3

    /// Operations one measurement runs at most: warm-up, the allocation passes, the rounds.
    var total: Int { warmup + iterations * (rounds + Self.processAllocationPasses) }

    /// A plan with `iterations` divided by `factor` (at least 50), for stages that cost a network round trip.
    func scaled(down factor: Int) -> Plan {
        Plan(iterations: max(50, iterations / factor), rounds: rounds, warmup: max(20, warmup / factor))
    }
}

enum CPUClock {
    static func nanoseconds(_ clock: clockid_t) -> UInt64 {
        var time = timespec()
        clock_gettime(clock, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }

    static func now(_ scope: Scope) -> UInt64 {
        nanoseconds(scope == .thread ? CLOCK_THREAD_CPUTIME_ID : CLOCK_PROCESS_CPUTIME_ID)
    }
}

/// Allocation counters of a scope (see `CAllocationCounter`).
enum Allocations {
    static func count(_ scope: Scope) -> (allocations: UInt64, bytes: UInt64) {
        switch scope {
        case .thread: (pba_thread_allocations(), pba_thread_bytes())
        case .process: (pba_process_allocations(), pba_process_bytes())
        }
    }
}

/// Keeps results alive so the optimizer cannot drop the work that made them: every stage returns a number derived
/// from its result (a byte count, a status), summed here.
let checksum = Atomic<Int>(0)

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return .nan }
    return sorted.count % 2 == 1
        ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}

/// The profiler stops with a message rather than print figures it cannot vouch for.
func fail(_ message: String) -> Never {
    writeStandardError("paybridge-profile: \(message)\n")
    exit(1)
}

/// Measures a synchronous stage on the calling thread: warm-up, then one pass of `plan.iterations` operations that
/// counts allocations, then `plan.rounds` timed passes. `body(i)` runs operation `i` (0 ..< `plan.total`, each
/// index once, so stages can give every operation its own input).
func measure(_ plan: Plan, row: String, _ body: (Int) -> Int) -> Figures {
    var index = 0
    var sum = 0
    func pass(_ count: Int) {
        for _ in 0..<count {
            sum &+= body(index)
            index += 1
        }
    }
    pass(plan.warmup)
    let sites = SiteRecorder.wants(row)
    if sites { SiteRecorder.start(.thread) }
    let before = Allocations.count(.thread)
    pass(plan.iterations)
    let after = Allocations.count(.thread)
    if sites { SiteRecorder.stop(row: row, operations: plan.iterations) }
    var rounds: [Double] = []
    for _ in 0..<plan.rounds {
        let start = CPUClock.now(.thread)
        pass(plan.iterations)
        rounds.append(Double(CPUClock.now(.thread) - start) / Double(plan.iterations) / 1000)
    }
    checksum.add(sum, ordering: .relaxed)
    return Figures(allocations: Double(after.allocations - before.allocations) / Double(plan.iterations),
                   bytes: Double(after.bytes - before.bytes) / Double(plan.iterations), cpuMicros: median(rounds),
                   rounds: rounds, scope: .thread)
}

/// Measures an asynchronous stage, one operation after the other. `.thread`: the operations must not suspend
/// (checked: the profiler stops when the thread changed within a pass).
func measure(_ plan: Plan, row: String, scope: Scope, _ body: (Int) async throws -> Int) async throws -> Figures {
    var index = 0
    return try await measurePasses(plan, row: row, scope: scope) { count in
        let thread = pthread_self()
        var sum = 0
        for _ in 0..<count {
            sum &+= try await body(index)
            index += 1
        }
        if scope == .thread, pthread_self() != thread { fail("a thread-scope stage left its thread") }
        return sum
    }
}

/// Measures a stage run in passes of `plan.iterations` operations: a warm-up pass, the allocation passes (one on
/// the thread, where counts are exact; three process-wide, where other threads' timing can move a count: their
/// median is the figure, their range is kept), then `plan.rounds` timed passes. `prepare(count)` runs before each
/// pass, outside the counts and the clock (e.g. puts `count` messages in a queue); `pass(count)` runs the operations.
func measurePasses(_ plan: Plan, row: String, scope: Scope, prepare: (Int) async throws -> Void = { _ in },
                   pass: (Int) async throws -> Int) async throws -> Figures {
    var sum = 0
    try await prepare(plan.warmup)
    sum &+= try await pass(plan.warmup)
    var counts: [(allocations: Double, bytes: Double)] = []
    for passIndex in 0..<(scope == .process ? Plan.processAllocationPasses : 1) {
        try await prepare(plan.iterations)
        let sites = passIndex == 0 && SiteRecorder.wants(row)
        if sites { SiteRecorder.start(scope) }
        if scope == .process { pba_set_process_counting(1) }
        let before = Allocations.count(scope)
        sum &+= try await pass(plan.iterations)
        let after = Allocations.count(scope)
        if scope == .process { pba_set_process_counting(0) }
        if sites { SiteRecorder.stop(row: row, operations: plan.iterations) }
        counts.append((Double(after.allocations - before.allocations) / Double(plan.iterations),
                       Double(after.bytes - before.bytes) / Double(plan.iterations)))
    }
    var rounds: [Double] = []
    for _ in 0..<plan.rounds {
        try await prepare(plan.iterations)
        let start = CPUClock.now(scope)
        sum &+= try await pass(plan.iterations)
        rounds.append(Double(CPUClock.now(scope) - start) / Double(plan.iterations) / 1000)
    }
    checksum.add(sum, ordering: .relaxed)
    let allocations = counts.map(\.allocations)
    return Figures(allocations: median(allocations), bytes: median(counts.map(\.bytes)), cpuMicros: median(rounds),
                   rounds: rounds, scope: scope,
                   allocationRange: scope == .process ? allocations.min()!...allocations.max()! : nil)
}

/// The process's CPU time per operation with `inFlight` operations running at once (a task each, as the worker runs
/// its commands), median of `plan.rounds` rounds of `plan.iterations`: what concurrency saves in wake-ups. CPU only:
/// the driver's own task per operation is in it.
func concurrentCPU(_ plan: Plan, inFlight: Int, _ body: @escaping @Sendable (Int) async throws -> Int) async throws
    -> Double
{
    func run(_ count: Int, from first: Int) async throws {
        try await withThrowingTaskGroup(of: Int.self) { group in
            var started = 0
            var sum = 0
            while started < min(inFlight, count) {
                let index = first + started
                group.addTask { try await body(index) }
                started += 1
            }
            while let result = try await group.next() {
                sum &+= result
                if started < count {
                    let index = first + started
                    group.addTask { try await body(index) }
                    started += 1
                }
            }
            checksum.add(sum, ordering: .relaxed)
        }
    }
    try await run(plan.warmup, from: 0)
    var rounds: [Double] = []
    for round in 0..<plan.rounds {
        let start = CPUClock.now(.process)
        try await run(plan.iterations, from: plan.warmup + round * plan.iterations)
        rounds.append(Double(CPUClock.now(.process) - start) / Double(plan.iterations) / 1000)
    }
    return median(rounds)
}

/// Writes to standard error (one write(2)).
func writeStandardError(_ text: String) {
    var text = text
    text.withUTF8 { bytes in _ = write(2, bytes.baseAddress, bytes.count) }
}
