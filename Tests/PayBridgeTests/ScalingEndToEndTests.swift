import AMQP
import BrokerTestKit
import Foundation
@testable import PayBridge
import PayBridgeContract
import ProviderSandbox
import Testing

/// The `paybridge` executable `swift build` put beside the test bundle.
let paybridgeExecutable: String = {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    return root.appendingPathComponent(".build/debug/paybridge").path
}()

/// After a worker stopped: every provider call it made has its event (awaited: confirmed events may still be on
/// their way to the listener), and every other command is back in its queue (consumed here to prove it).
func expectNothingLostAfterStop(_ world: EndToEnd, ids: Set<String>, operation: String, queue: String) async throws {
    let creates = world.sandbox.receivedRequests().filter { $0.operation == operation }.count
    try await world.events.wait(timeout: .seconds(20)) { responseCount($0, ids) >= creates }
    let answeredIds = Set(world.events.all.filter { $0.event.type == OutcomeEvents.responseType }
        .compactMap(\.commandId)).intersection(ids)
    #expect(answeredIds.count == creates, "every provider call that was started got its event; none ran twice")
    var remaining = Set<String>()
    if answeredIds.count < ids.count {
        let consumer = try await world.client.consume(queue: queue, prefetch: 100)
        for try await delivery in consumer {
            if let id = delivery.properties.messageId { remaining.insert(id) }
            try await delivery.ack()
            if remaining.count == ids.count - answeredIds.count { break }
        }
        await consumer.cancel()
    }
    #expect(answeredIds.union(remaining) == ids, "every command either got its event or is still queued")
    #expect(answeredIds.isDisjoint(with: remaining))
}

/// Starts `paybridge worker` (Amanpay only) as its own process against the world's vhost and sandbox, with
/// `environment` added to its settings.
func startWorkerProcess(_ world: EndToEnd, prefetch: Int, environment: [String: String] = [:]) throws -> Process {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: paybridgeExecutable)
    process.arguments = ["worker", "--log-level", "error"]
    process.environment = [
        "PAYBRIDGE_AMQP_URL": world.amqpURL, "PAYBRIDGE_HTTP_PORT": "0", "PAYBRIDGE_ADMIN_PORT": "0",
        "PAYBRIDGE_PREFETCH": "\(prefetch)",
        "AMANPAY_BASE_URL": world.sandbox.baseURL,
        "AMANPAY_MERCHANT_ID": "\(world.sandbox.configuration.amanpayMerchantId)", "AMANPAY_SECRET_KEY": "s3cr3t",
    ].merging(environment) { _, added in added }
    try process.run()
    return process
}

func responseCount(_ events: [RecordedEvent], _ ids: Set<String>) -> Int {
    Set(events.filter { $0.event.type == OutcomeEvents.responseType }.compactMap(\.commandId))
        .intersection(ids).count
}

@Suite(.timeLimit(.minutes(4))) struct ScalingEndToEndTests {
    @Test func gracefulShutdownDrainsInFlightCommandsAndLosesNone() async throws {
        try await EndToEnd.run { world in
            world.sandbox.addFault(SandboxFault(provider: "amanpay", operation: "payout", latencyMs: 300))
            var ids: Set<String> = []
            for index in 0..<30 { ids.insert(try await world.send(.amanpayPayout, data: payoutData("drain-\(index)"))) }
            let frozenIds = ids
            let runtime = try await PayBridgeRuntime.start(
                configuration: try world.configuration(prefetch: 10), role: .worker, logger: e2eLogger, signals: [])
            let running = Task { try await runtime.run() }
            // Shut down while commands are in flight at the provider.
            try await world.events.wait { events in
                events.contains { $0.event.type == OutcomeEvents.responseType }
            }
            await runtime.triggerGracefulShutdown()
            try await running.value  // returns normally: drained
            #expect(responseCount(world.events.all, frozenIds) > 0)
            try await expectNothingLostAfterStop(world, ids: frozenIds, operation: "payout",
                                                 queue: Topology.commandQueue(.amanpay))
        }
    }

    @Test func twoWorkersShareAQueueAndEachCommandIsExecutedOnce() async throws {
        try await EndToEnd.run { world in
            world.sandbox.addFault(SandboxFault(provider: "firstpay", operation: "pay_out", latencyMs: 20))
            let first = try await PayBridgeRuntime.start(
                configuration: try world.configuration(prefetch: 5), role: .worker, logger: e2eLogger, signals: [])
            let second = try await PayBridgeRuntime.start(
                configuration: try world.configuration(prefetch: 5), role: .worker, logger: e2eLogger, signals: [])
            let runs = [Task { try await first.run() }, Task { try await second.run() }]
            var ids: Set<String> = []
            for index in 0..<100 {
                ids.insert(try await world.send(.firstpayPayOut, data: firstpayPaymentData("share-\(index)")))
            }
            let frozenIds = ids
            try await world.events.wait(timeout: .seconds(60)) { responseCount($0, frozenIds) == frozenIds.count }
            await first.triggerGracefulShutdown()
            await second.triggerGracefulShutdown()
            for run in runs { try await run.value }
            let creates = world.sandbox.receivedRequests().filter { $0.operation == "pay_out" }
            #expect(creates.count == 100)
            #expect(Set(creates.compactMap(\.paymentId)).count == 100)
            for runtime in [first, second] {
                #expect(runtime.metrics.exposition().contains("paybridge_commands_total{provider=\"firstpay\",account=\"default\",outcome=\"response\"}"),
                        "both workers took a share")
            }
        }
    }

    @Test func workerKilledWithSIGKILLMidLoadLosesNoCommand() async throws {
        #expect(FileManager.default.isExecutableFile(atPath: paybridgeExecutable),
                "build the executable first (swift build); make test does")
        try await EndToEnd.run { world in
            world.sandbox.addFault(SandboxFault(provider: "amanpay", operation: "payout", latencyMs: 30))
            var ids: Set<String> = []
            for index in 0..<200 { ids.insert(try await world.send(.amanpayPayout, data: payoutData("kill-\(index)"))) }
            let frozenIds = ids
            let process = try startWorkerProcess(world, prefetch: 20)
            defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
            try await world.events.wait(timeout: .seconds(60)) { responseCount($0, frozenIds) >= 40 }
            kill(process.processIdentifier, SIGKILL)
            await ChildProcess.waitForExit(process)
            #expect(process.terminationReason == .uncaughtSignal)
            let answeredBeforeKill = responseCount(world.events.all, frozenIds)
            #expect(answeredBeforeKill < frozenIds.count, "killed mid-load")

            // A second worker takes over: the killed worker's unacked commands are redelivered to it.
            try await world.withPayBridge(try world.configuration(prefetch: 20), role: .worker) { _ in
                try await world.events.wait(timeout: .seconds(90)) { responseCount($0, frozenIds) == frozenIds.count }
            }
            let creates = world.sandbox.receivedRequests().filter { $0.operation == "payout" }
            #expect(Set(creates.compactMap(\.paymentId)).count == 200)
            // Redelivered commands go status-first, so they create only what the provider does not have. A create
            // the killed worker had already handed to the provider can still be in progress when the status read
            // arrives ("not found"), so a second create request is possible for those (at most its prefetch, 20);
            // the provider's idempotency on the merchant payment id (A5) keeps it one payment.
            #expect(creates.count <= 200 + 20)
            #expect(world.sandbox.paymentCount == 200, "no payment exists twice")
        }
    }

    @Test func sigtermDrainsTheWorkerProcessAndExitsZero() async throws {
        #expect(FileManager.default.isExecutableFile(atPath: paybridgeExecutable))
        try await EndToEnd.run { world in
            world.sandbox.addFault(SandboxFault(provider: "amanpay", operation: "payout", latencyMs: 200))
            var ids: Set<String> = []
            for index in 0..<60 { ids.insert(try await world.send(.amanpayPayout, data: payoutData("term-\(index)"))) }
            let frozenIds = ids
            let process = try startWorkerProcess(world, prefetch: 10)
            defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
            try await world.events.wait(timeout: .seconds(60)) { responseCount($0, frozenIds) >= 5 }
            kill(process.processIdentifier, SIGTERM)
            await ChildProcess.waitForExit(process)
            #expect(process.terminationReason == .exit)
            #expect(process.terminationStatus == 0)
            #expect(world.sandbox.receivedRequests().filter { $0.operation == "payout" }.count < frozenIds.count,
                    "stopped mid-load")
            try await expectNothingLostAfterStop(world, ids: frozenIds, operation: "payout",
                                                 queue: Topology.commandQueue(.amanpay))
        }
    }
}
