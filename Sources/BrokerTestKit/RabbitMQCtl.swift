import Foundation
import Synchronization

/// Runs `rabbitmqctl` for the integration tests without blocking a thread of Swift's cooperative pool.
///
/// Why: `Process.waitUntilExit()` blocks its thread. On a 2-core machine the cooperative pool has two threads, so
/// two tests waiting for `rabbitmqctl` at once stalled every other test in the process. The exit is awaited
/// through `terminationHandler` instead.
public enum RabbitMQCtl {
    /// `rabbitmqctl -q <arguments>`; returns its exit status (output discarded).
    @discardableResult
    public static func run(_ arguments: String...) async throws -> Int32 {
        try await run(arguments)
    }

    /// Calls run one at a time: concurrent `rabbitmqctl` processes collide on their Erlang node names
    /// ("Distribution failed: nodistribution") and each boots an Erlang VM, which starves a 2-core machine.
    @discardableResult
    public static func run(_ arguments: [String]) async throws -> Int32 {
        try await serializer.run { try await runNow(arguments) }
    }

    /// `rabbitmqctl -q <arguments>`; returns its standard output, or `nil` when it failed.
    public static func output(_ arguments: String...) async throws -> String? {
        try await serializer.run {
            let file = FileManager.default.temporaryDirectory
                .appendingPathComponent("rabbitmqctl-\(UUID().uuidString).out")
            guard FileManager.default.createFile(atPath: file.path, contents: nil) else { return nil }
            defer { try? FileManager.default.removeItem(at: file) }
            let output = try FileHandle(forWritingTo: file)
            defer { try? output.close() }
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["timeout", "60", "rabbitmqctl", "-q"] + arguments
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
            guard try await ChildProcess.runToExit(process) == 0 else { return nil }
            return try String(contentsOf: file, encoding: .utf8)
        }
    }

    private static let serializer = OneAtATime()

    private static func runNow(_ arguments: [String]) async throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        // `timeout`: a CLI that cannot reach the broker must not linger (and hold one of its 11 distribution ports).
        process.arguments = ["timeout", "60", "rabbitmqctl", "-q"] + arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        return try await ChildProcess.runToExit(process)
    }
}

/// Child processes awaited without blocking.
public enum ChildProcess {
    /// Starts `process` and returns its exit status once it ended.
    public static func runToExit(_ process: Process) async throws -> Int32 {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Int32, any Error>) in
            process.terminationHandler = { ended in continuation.resume(returning: ended.terminationStatus) }
            do {
                try process.run()
            } catch {
                process.terminationHandler = nil
                continuation.resume(throwing: error)
            }
        }
    }

    /// Waits for an already started `process` to end.
    public static func waitForExit(_ process: Process) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumed = ResumeOnce(continuation)
            process.terminationHandler = { _ in resumed.resume() }
            if !process.isRunning { resumed.resume() }
        }
    }
}

/// Resumes a continuation at most once (the handler and the `isRunning` check may both see the exit).
private final class ResumeOnce: Sendable {
    private let continuation: Mutex<CheckedContinuation<Void, Never>?>
    init(_ continuation: CheckedContinuation<Void, Never>) { self.continuation = Mutex(continuation) }
    func resume() {
        continuation.withLock { c -> CheckedContinuation<Void, Never>? in
            defer { c = nil }
            return c
        }?.resume()
    }
}

/// Runs async operations strictly one after another, in arrival order.
actor OneAtATime {
    private var tail: Task<Void, Never>?

    func run<T: Sendable>(_ operation: @escaping @Sendable () async throws -> T) async throws -> T {
        let previous = tail
        let task = Task { () async throws -> T in
            await previous?.value
            return try await operation()
        }
        tail = Task { _ = try? await task.value }
        return try await task.value
    }
}
