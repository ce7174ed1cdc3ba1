import BrokerTestKit
import Foundation
@testable import PayBridge
import Testing

/// `paybridge worker` runs every one of its threads under the scheduling policy of `PAYBRIDGE_CPU_SCHEDULING`
/// (`batch` unless set): those it had when it applied it and those started later (event loops, AMQP I/O
/// threads, pool threads), read from `/proc` while it processes commands.
@Suite(.timeLimit(.minutes(3))) struct CPUSchedulingEndToEndTests {
    @Test func aWorkerProcessRunsEveryThreadUnderSchedBatchByDefault() async throws {
        let policies = try await threadPolicies(ofAWorkerWith: [:])
        #expect(policies.count >= 4, "the worker's threads were read: \(policies)")
        #expect(Set(policies.values) == [CPUScheduling.batch.kernelPolicy], "\(policies)")
    }

    @Test func aWorkerProcessAskedForNormalSchedulingKeepsSchedOther() async throws {
        let policies = try await threadPolicies(ofAWorkerWith: ["PAYBRIDGE_CPU_SCHEDULING": "normal"])
        #expect(policies.count >= 4, "the worker's threads were read: \(policies)")
        #expect(Set(policies.values) == [CPUScheduling.normal.kernelPolicy], "\(policies)")
    }

    /// Starts a worker process with `environment`, waits until it answered a command (its HTTP client and both
    /// AMQP connections are up by then), and reads the policy of each of its threads.
    private func threadPolicies(ofAWorkerWith environment: [String: String]) async throws -> [Int32: Int32] {
        try await EndToEnd.run { world in
            let process = try startWorkerProcess(world, prefetch: 10, environment: environment)
            defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
            let id = try await world.send(.amanpayPayout, data: payoutData("sched-1"))
            try await world.events.wait(timeout: .seconds(60)) { responseCount($0, [id]) == 1 }
            let policies = CPUScheduling.policies(ofProcess: process.processIdentifier)
            kill(process.processIdentifier, SIGTERM)
            await ChildProcess.waitForExit(process)
            return policies
        }
    }
}
