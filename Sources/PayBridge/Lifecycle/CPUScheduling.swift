import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `PAYBRIDGE_CPU_SCHEDULING`: the Linux scheduling policy of every thread of the process.
///
/// - `batch` (`SCHED_BATCH`, the `worker` role's default): a thread the worker wakes (an AMQP I/O thread, an HTTP
///   event loop, a pool thread resuming a command) does not preempt the thread running on that core; it runs at
///   the next scheduler tick or when that thread sleeps. A worker wakes its threads about once per command, so
///   under load this saves most of its involuntary context switches and the cache refills after them (on this
///   project's benchmark about a tenth of the worker's CPU per command; docs/benchmarks.md, "CPU scheduling").
///   Each hand-off of a command can wait up to a tick (1–4 ms) while the cores are busy; at the same load the CPU
///   saved shortened the queues more (lower p50 and p99 on the benchmark at a fixed rate). Nice value and CPU
///   share are unchanged.
/// - `normal` (`SCHED_OTHER`): every wake-up may preempt. The `callbacks` and `run` roles leave the policy as the
///   process started unless `PAYBRIDGE_CPU_SCHEDULING` is set (``default(for:)`` is `nil` for them).
///
/// Unprivileged: lowering to `SCHED_BATCH` needs no capability. A container whose seccomp profile forbids
/// `sched_setscheduler` keeps `normal`; the worker logs a warning and runs on.
public enum CPUScheduling: String, Sendable, CaseIterable {
    case batch
    case normal

    /// The default of a role: `batch` for a worker; `nil` (the policy the process started with, so an operator's
    /// `chrt` stands) where a callback listener runs.
    public static func `default`(for role: PayBridgeRuntime.Role) -> CPUScheduling? {
        role == .worker ? .batch : nil
    }

    /// The kernel's policy number (`<linux/sched.h>`; Swift's Glibc module does not export `SCHED_BATCH`), as
    /// ``policies(ofProcess:)`` reports it.
    public var kernelPolicy: Int32 {
        switch self {
        case .batch: 3  // SCHED_BATCH
        case .normal: 0  // SCHED_OTHER
        }
    }

    /// The policy could not be set on a thread (`errno`'s text and the thread id).
    public struct Failure: Error, CustomStringConvertible {
        public let thread: Int32
        public let reason: String
        public var description: String { "could not set the CPU scheduling policy of thread \(thread): \(reason)" }
    }

    /// Sets this policy on every thread the process has now. Threads started later inherit it from the thread
    /// that starts them, so the whole process runs under it from here on. Repeats the pass until it finds no
    /// thread it has not set (a thread started while the first pass ran). Returns the number of threads set.
    @discardableResult
    public func applyToAllThreads() throws -> Int {
        var done = Set<Int32>()
        for _ in 0..<4 {
            let threads = Set(Self.threadIDs(ofProcess: "self")).subtracting(done)
            if threads.isEmpty { break }
            for thread in threads {
                var parameters = sched_param()
                parameters.sched_priority = 0
                if sched_setscheduler(thread, kernelPolicy, &parameters) != 0 {
                    let code = errno
                    // A thread that ended since the listing has nothing left to set.
                    if code == ESRCH { continue }
                    throw Failure(thread: thread, reason: String(cString: strerror(code)))
                }
                done.insert(thread)
            }
        }
        return done.count
    }

    /// The policy each thread of `process` runs under, by thread id (`/proc/<pid>/task/<tid>/stat`, field 41);
    /// threads whose file cannot be read are left out. For tests and diagnostics.
    public static func policies(ofProcess process: Int32) -> [Int32: Int32] {
        var result: [Int32: Int32] = [:]
        for thread in threadIDs(ofProcess: "\(process)") {
            guard let stat = try? String(contentsOfFile: "/proc/\(process)/task/\(thread)/stat", encoding: .utf8),
                let commandEnd = stat.lastIndex(of: ")")
            else { continue }
            // Fields after the command name start at field 3 (state); the policy is field 41.
            let fields = stat[stat.index(after: commandEnd)...].split(separator: " ")
            if fields.count > 38, let policy = Int32(fields[38]) { result[thread] = policy }
        }
        return result
    }

    /// The ids of `process`'s threads (`self` or a pid), from `/proc/<process>/task`.
    private static func threadIDs(ofProcess process: String) -> [Int32] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(process)/task")) ?? []
        return names.compactMap { Int32($0) }
    }
}
