import AMQP
import BrokerTestKit
import Foundation
@testable import PayBridge
import PayBridgeContract
import PayBridgeTools
import ProviderSandbox
import StrictJSON
import Testing

/// Through the broker, a worker and the provider sandbox: a payment a create left open is read
/// again on `PAYBRIDGE_RECONCILE_SCHEDULE` through broker-side delay queues, a change is published, and a payment
/// still open after the last check is `unresolved`. The schedules are seconds long so the chains run in the test.
@Suite(.timeLimit(.minutes(3))) struct ReconciliationEndToEndTests {
    func configuration(_ world: EndToEnd, schedule: String) throws -> PayBridgeConfiguration {
        var configuration = try world.configuration()
        configuration.reconcileSchedule = try ReconcileSchedule(parsing: schedule)
        return configuration
    }

    static func events(_ events: [RecordedEvent], commandId: String, type: String) -> [RecordedEvent] {
        events.filter { $0.commandId == commandId && $0.event.type == type }
    }

    @Test func aCallbackThatNeverComesIsFoundByAStatusCheckAndEndsTheChain() async throws {
        try await EndToEnd.run { world in
            try await world.withPayBridge(configuration(world, schedule: "1s,1s,1s")) { runtime in
                let paymentId = "quiet-\(UUID().uuidString.prefix(8).lowercased())"
                let purchase = try await world.send(.amanpayPurchase, data: purchaseData(paymentId))
                let first = try await world.events.first(type: OutcomeEvents.responseType, commandId: purchase)
                #expect(first.status == "processing" && first.data["reconciliation"] == nil)  // a wallet purchase: PENDING

                // The customer pays; Amanpay's callback never comes.
                #expect(world.sandbox.completeAmanpay(paymentId: paymentId, status: "SUCCESS", notify: false))
                try await world.events.wait {
                    Self.events($0, commandId: purchase, type: OutcomeEvents.responseType).count == 2
                }
                let found = Self.events(world.events.all, commandId: purchase, type: OutcomeEvents.responseType)[1]
                expectValid(found)
                #expect(found.routingKey == "amanpay.purchase.response")
                #expect(found.status == "succeeded" && found.data["final"] == true)
                #expect(found.data["providerStatus"]?.stringValue == "SUCCESS")
                #expect(found.data["reconciliation"]?["of"] == .number(JSONNumber(3)))
                #expect(found.data["reconciliation"]?["openSince"] != nil)
                #expect(found.event.id != first.event.id && (found.event.time ?? "") > (first.event.time ?? "~"))
                #expect(world.sandbox.callbackDeliveries().isEmpty, "no callback was involved")

                // A final status ends the chain. The check that found it is counted after its plan (event, then any
                // next check) was carried out; a next check would then come back within the 1 s delay. Absence
                // can only be shown by waiting: 3 s, three times the delay.
                try await Self.waitForMetric(runtime, #"paybridge_reconcile_checks_total{provider="amanpay",account="default",result="changed"} 1"#)
                try await Task.sleep(for: .seconds(3))
                let metrics = runtime.metrics.exposition()
                #expect(metrics.contains(#"paybridge_reconcile_checks_total{provider="amanpay",account="default",result="changed"} 1"#))
                #expect(metrics.contains(#"paybridge_reconcile_checks_total{provider="amanpay",account="default",result="unresolved"} 0"#))
                #expect(metrics.contains(#"paybridge_reconcile_checks_total{provider="amanpay",account="default",result="read_failed"} 0"#))
                #expect(Self.events(world.events.all, commandId: purchase, type: OutcomeEvents.unresolvedType).isEmpty)
                #expect(Self.events(world.events.all, commandId: purchase, type: OutcomeEvents.responseType).count == 2)
            }
        }
    }

    @Test func aPaymentStillOpenAfterTheLastCheckIsUnresolved() async throws {
        try await EndToEnd.run { world in
            try await world.withPayBridge(configuration(world, schedule: "1s,2s")) { runtime in
                let paymentId = "stuck-\(UUID().uuidString.prefix(8).lowercased())"
                let payIn = try await world.send(.firstpayPayIn, data: firstpayPaymentData(paymentId))
                let first = try await world.events.first(type: OutcomeEvents.responseType, commandId: payIn)
                #expect(first.data["final"] == false)

                let unresolved = try await world.events.first(type: OutcomeEvents.unresolvedType, commandId: payIn)
                expectValid(unresolved)
                #expect(unresolved.routingKey == "firstpay.unresolved")
                #expect(unresolved.properties.correlationId == payIn)
                let data = unresolved.data
                #expect(data["paymentId"]?.stringValue == paymentId && data["operation"]?.stringValue == "pay_in")
                #expect(data["status"] == first.data["status"] && data["final"] == false)
                #expect(data["providerPaymentId"] == first.data["providerPaymentId"])
                #expect(data["checks"] == .number(JSONNumber(2)) && data["schedule"]?.stringValue == "1s,2s")
                #expect(data["lastCheckError"] == nil, "the provider answered; the payment is just still open")
                // Two status reads by the worker, nothing published in between (the status never changed).
                let reads = world.sandbox.receivedRequests().filter {
                    $0.operation == "status" && $0.paymentId == paymentId
                }
                #expect(reads.count == 2)
                #expect(Self.events(world.events.all, commandId: payIn, type: OutcomeEvents.responseType).count == 1)
                // Counted once the check's plan was carried out, which may be just after its event arrived.
                try await Self.waitForMetric(
                    runtime, #"paybridge_reconcile_checks_total{provider="firstpay",account="default",result="unresolved"} 1"#)
                #expect(runtime.metrics.exposition()
                    .contains(#"paybridge_reconcile_checks_total{provider="firstpay",account="default",result="unchanged"} 1"#))
            }
        }
    }

    /// The sandbox's faults drive both cases (`notify: false`, `outcome: NONE`), and `paybridge send --wait`'s
    /// sender stops at `final` and at `unresolved`.
    @Test func aSenderWaitsThroughAReconciliationToTheFinalStatusOrToUnresolved() async throws {
        try await EndToEnd.run { world in
            try await world.withPayBridge(configuration(world, schedule: "1s,1s")) { _ in
                let run = UUID().uuidString.prefix(8).lowercased()
                world.sandbox.addFault(SandboxFault(provider: "amanpay", operation: "purchase", paymentId: "paid-\(run)",
                                                    outcome: "SUCCESS", notify: false))
                world.sandbox.addFault(SandboxFault(provider: "amanpay", operation: "purchase", paymentId: "open-\(run)",
                                                    outcome: "NONE"))
                let sender = CommandSender(connection: world.client)
                let paid = try await sender.sendAndWait(
                    ToolsTestBroker.amanpayPurchase(id: "cmd-paid-\(run)", paymentId: "paid-\(run)"),
                    timeout: .seconds(20))
                #expect(paid.completion == .final)
                #expect(paid.events.map(\.status) == ["requires_action", "succeeded"])
                #expect(paid.events.last?.event?.data?["reconciliation"] != nil, "found by a check, not a callback")
                let open = try await sender.sendAndWait(
                    ToolsTestBroker.amanpayPurchase(id: "cmd-open-\(run)", paymentId: "open-\(run)"),
                    timeout: .seconds(20))
                #expect(open.completion == .unresolved)
                #expect(open.events.map(\.type) == [OutcomeEvents.responseType, OutcomeEvents.unresolvedType])
                #expect(EventPrinter.describe(try #require(open.events.last))
                    .contains("still open after 2 status checks (schedule 1s,1s"))
                #expect(world.sandbox.callbackDeliveries().isEmpty, "neither payment sent a callback")
            }
        }
    }

    @Test func theDelayQueuesFollowTheScheduleAndWaitOnTheBroker() async throws {
        try await EndToEnd.run { world in
            try await world.withPayBridge(configuration(world, schedule: "1m,90s")) { _ in
                let paymentId = "wait-\(UUID().uuidString.prefix(8).lowercased())"
                let purchase = try await world.send(.amanpayPurchase, data: purchaseData(paymentId))
                _ = try await world.events.first(type: OutcomeEvents.responseType, commandId: purchase)
                // The check waits in the first delay queue, on the broker (the worker keeps nothing). It is published
                // right after the event, so it may arrive a moment after the event does.
                var waiting: UInt32 = 0
                for _ in 0..<250 where waiting == 0 {
                    waiting = try await world.client.declare(
                        AMQPQueue("payments.reconcile.amanpay.1m", kind: .quorum, passive: true)).messageCount
                    if waiting == 0 { try await Task.sleep(for: .milliseconds(20)) }
                }
                #expect(waiting == 1)
                _ = try await world.client.declare(AMQPQueue("payments.reconcile.firstpay.90s", kind: .quorum,
                                                             passive: true))
            }
        }
    }

    /// Waits (bounded) until the runtime's metrics contain `line`.
    static func waitForMetric(_ runtime: PayBridgeRuntime, _ line: String) async throws {
        for _ in 0..<300 {
            if runtime.metrics.exposition().contains(line) { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw TimeoutError(what: "metric \(line) not seen")
    }
}
