import BrokerTestKit
import Foundation
import NIOCore
@testable import PayBridge
import Testing

/// `paybridge worker` runs its NIO event loops on half the cores unless `PAYBRIDGE_HTTP_EVENT_LOOPS` says otherwise:
/// the threads of NIO's shared group (named `NIO-SGLTN-…`), counted from `/proc` once it has answered a command
/// through the provider sandbox.
@Suite(.timeLimit(.minutes(3))) struct HTTPEventLoopsEndToEndTests {
    @Test func aWorkerProcessRunsHalfTheCoresAsEventLoopsByDefault() async throws {
        let loops = try await eventLoopThreads(ofAWorkerWith: [:])
        #expect(loops.count == max(1, System.coreCount / 2), "\(loops)")
    }

    @Test func aWorkerProcessRunsAsManyEventLoopsAsAskedFor() async throws {
        let loops = try await eventLoopThreads(ofAWorkerWith: ["PAYBRIDGE_HTTP_EVENT_LOOPS": "3"])
        #expect(loops.count == 3, "\(loops)")
    }

    /// Starts a worker process with `environment`, waits until it answered a command, and lists the names of its
    /// threads that are event loops of NIO's shared group.
    private func eventLoopThreads(ofAWorkerWith environment: [String: String]) async throws -> [String] {
        try await EndToEnd.run { world in
            let process = try startWorkerProcess(world, prefetch: 10, environment: environment)
            defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
            let id = try await world.send(.amanpayPayout, data: payoutData("loops-1"))
            try await world.events.wait(timeout: .seconds(60)) { responseCount($0, [id]) == 1 }
            let names = Self.threadNames(ofProcess: process.processIdentifier)
            kill(process.processIdentifier, SIGTERM)
            await ChildProcess.waitForExit(process)
            #expect(names.count >= 4, "the worker's threads were read: \(names)")
            return names.filter { $0.hasPrefix("NIO-SGLTN-") }.sorted()
        }
    }

    /// Every thread's name (`/proc/<pid>/task/<tid>/comm`).
    static func threadNames(ofProcess pid: Int32) -> [String] {
        let tasks = "/proc/\(pid)/task"
        let threads = (try? FileManager.default.contentsOfDirectory(atPath: tasks)) ?? []
        return threads.compactMap { thread in
            (try? String(contentsOfFile: "\(tasks)/\(thread)/comm", encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }
}
