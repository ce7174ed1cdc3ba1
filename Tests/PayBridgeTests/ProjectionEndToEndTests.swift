import AMQP
import Foundation
@testable import PayBridge
import PayBridgeContract
import PayBridgeTools
import PaymentVocabulary
import ProviderCore
import ProviderSandbox
import StrictJSON
import Testing

/// The consumers' status rule against the real stream: an order service's projection (``PaymentStatusProjection``,
/// the rule of docs/contract.md), fed by every event a real worker publishes while the sandbox drives the races an
/// order service meets, ends equal to the provider's own status for every payment.
@Suite(.timeLimit(.minutes(4))) struct ProjectionEndToEndTests {
    /// The provider's statuses as docs/providers.md maps them (amanpay.md §8, firstpay.md §8), written out here so
    /// the comparison does not lean on PayBridge's own mapping.
    static let unified: [String: PaymentStatus] = [
        "PENDING": .processing, "REDIRECT": .requiresAction, "SPECIFICATION": .requiresAction,
        "NEED_CHECK": .underReview, "SUCCESS": .succeeded, "FAILED": .failed, "CANCELLED": .cancelled,
    ]

    /// One payment the test drives, and where the sandbox keeps it.
    struct Payment: Sendable, CustomStringConvertible {
        var provider: Provider
        var paymentId: String
        var type: String = "purchase"
        var description: String { "\(provider.rawValue)/\(paymentId)" }
        var key: PaymentStatusProjection.Key { .init(provider: provider.rawValue, paymentId: paymentId) }
    }

    static func providerStatus(_ payment: Payment, _ sandbox: ProviderSandbox) -> PaymentStatus? {
        let text = payment.provider == .amanpay
            ? sandbox.amanpayPayment(paymentId: payment.paymentId, type: payment.type)?.status
            : sandbox.firstpayPayment(merchantPaymentId: payment.paymentId)?.status
        return text.flatMap { unified[$0] }
    }

    static func projection(_ events: [RecordedEvent]) -> PaymentStatusProjection {
        var projection = PaymentStatusProjection()
        for event in events { projection.apply(event.event) }
        return projection
    }

    /// The rule docs/contract.md used to state: per payment, the event with the newest `time` is the status.
    static func newestTimeWins(_ events: [RecordedEvent], _ payment: Payment) -> String? {
        events.filter { $0.data["provider"]?.stringValue == payment.provider.rawValue
            && $0.data["paymentId"]?.stringValue == payment.paymentId }
            .max { RFC3339Instant($0.event.time ?? "")! < RFC3339Instant($1.event.time ?? "")! }?.status
    }

    static func mismatches(_ payments: [Payment], _ projection: PaymentStatusProjection, _ sandbox: ProviderSandbox)
        -> [String]
    {
        payments.compactMap { payment in
            let expected = providerStatus(payment, sandbox)
            let projected = projection[payment.key]?.status
            return expected == projected ? nil : "\(payment): provider \(expected.map(\.rawValue) ?? "-"), "
                + "projection \(projected.map(\.rawValue) ?? "-")"
        }
    }

    /// Runs the `jq -s '…'` program of docs/integration-lifecycle.md ("Recovering an order service's projection") over
    /// `bodies` as NDJSON; the statuses it prints, per payment.
    static func jqRecipe(over bodies: [[UInt8]]) throws -> [PaymentStatusProjection.Key: PaymentStatus] {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let doc = try String(contentsOf: root.appendingPathComponent("docs/integration-lifecycle.md"), encoding: .utf8)
        let program = try #require(doc.components(separatedBy: "jq -s '").dropFirst().first?
            .components(separatedBy: "' payments-history.ndjson").first, "the recipe is in docs/integration-lifecycle.md")
        let directory = FileManager.default.temporaryDirectory
        let input = directory.appendingPathComponent("history-\(UUID().uuidString).ndjson")
        let output = directory.appendingPathComponent("history-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: input); try? FileManager.default.removeItem(at: output) }
        try Data(bodies.flatMap { $0 + [UInt8(ascii: "\n")] }).write(to: input)
        try #require(FileManager.default.createFile(atPath: output.path, contents: nil))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["jq", "-s", program, input.path]
        process.standardOutput = try FileHandle(forWritingTo: output)
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "jq ran the recipe")
        let rows = try JSONValue.parse(Array(try Data(contentsOf: output))).arrayElements ?? []
        var statuses: [PaymentStatusProjection.Key: PaymentStatus] = [:]
        for row in rows {
            guard let provider = row["provider"]?.stringValue, let paymentId = row["paymentId"]?.stringValue,
                let status = row["status"]?.stringValue.flatMap(PaymentStatus.init(rawValue:))
            else { continue }
            let key = PaymentStatusProjection.Key(provider: provider, account: row["account"]?.stringValue ?? "default",
                                                  paymentId: paymentId)
            statuses[key] = status
        }
        return statuses
    }

    static func fresh(_ prefix: String) -> String { "\(prefix)-\(UUID().uuidString.prefix(8).lowercased())" }

    @Test func aProjectionFedByTheLiveStreamEndsEqualToTheProviderAcrossTheRaces() async throws {
        let started = Date()
        try await EndToEnd.run { world in
            var configuration = try world.configuration(maxAttempts: 2, requestTimeout: .seconds(20))
            configuration.reconcileSchedule = try ReconcileSchedule(parsing: "2s,3s")
            // The status reads that keep failing (step 2) must not open the circuit and pause Amanpay for 30 s.
            configuration.amanpay?.circuitBreaker = CircuitBreakerConfiguration(failureThreshold: 1000)
            // The replayed callbacks below must be read: identical ones are read once only within
            // PAYBRIDGE_CALLBACK_DEDUP_SECONDS, and a replay after the window must still leave the projection right.
            configuration.callbackDedupWindow = .zero
            let payments = try await world.withPayBridge(configuration) { _ -> [Payment] in
                let sandbox = world.sandbox
                var payments: [Payment] = []

                // 1. A slow gateway: the callback (SUCCESS) before the create's answer (REDIRECT).
                let slow = Payment(provider: .amanpay, paymentId: Self.fresh("slow"))
                payments.append(slow)
                sandbox.addFault(SandboxFault(provider: "amanpay", operation: "purchase", paymentId: slow.paymentId,
                                              initialStatus: "REDIRECT", outcome: "SUCCESS", answerAfterCallback: true))
                let slowCreate = try await world.send(.amanpayPurchase, data: purchaseData(slow.paymentId))
                try await world.events.wait(for: "the slow payment's succeeded callback") { events in
                    events.contains { $0.event.type == OutcomeEvents.callbackType
                        && $0.data["paymentId"]?.stringValue == slow.paymentId && $0.status == "succeeded" }
                }
                sandbox.releaseAnswer(paymentId: slow.paymentId)
                let slowAnswer = try await world.events.first(type: OutcomeEvents.responseType, commandId: slowCreate)
                #expect(slowAnswer.status == "requires_action")
                let raced = world.events.all
                #expect(Self.newestTimeWins(raced, slow) == "requires_action",
                        "the race happened: the create's answer is stamped after the final callback")
                #expect(Self.projection(raced)[slow.key]?.status == .succeeded)

                // 2. A status command whose reads keep failing, for a payment that succeeded.
                let paid = Payment(provider: .amanpay, paymentId: Self.fresh("paid"))
                payments.append(paid)
                sandbox.addFault(SandboxFault(provider: "amanpay", operation: "purchase", paymentId: paid.paymentId,
                                              outcome: "SUCCESS"))
                _ = try await world.send(.amanpayPurchase, data: purchaseData(paid.paymentId))
                try await world.events.wait(for: "the paid payment's succeeded callback") { events in
                    events.contains { $0.event.type == OutcomeEvents.callbackType
                        && $0.data["paymentId"]?.stringValue == paid.paymentId && $0.status == "succeeded" }
                }
                sandbox.addFault(SandboxFault(provider: "amanpay", operation: "status", paymentId: paid.paymentId,
                                              httpStatus: 503))
                let failingRead = try await world.send(.amanpayStatus, data: [
                    "paymentId": .string(paid.paymentId), "paymentType": .string("purchase")])
                let failed = try await world.events.first(type: OutcomeEvents.commandFailedType, commandId: failingRead)
                #expect(failed.data["error"]?["class"]?.stringValue == "retries_exhausted")
                #expect(failed.status == "unknown" && failed.data["final"] == false)

                /// An Amanpay purchase that stays where it starts until the test moves it, once its answer is in.
                @Sendable func openPurchase(_ prefix: String, initialStatus: String = "REDIRECT") async throws
                    -> (Payment, RecordedEvent)
                {
                    let payment = Payment(provider: .amanpay, paymentId: Self.fresh(prefix))
                    sandbox.addFault(SandboxFault(provider: "amanpay", operation: "purchase",
                                                  paymentId: payment.paymentId, initialStatus: initialStatus,
                                                  outcome: "NONE"))
                    let create = try await world.send(.amanpayPurchase, data: purchaseData(payment.paymentId))
                    return (payment, try await world.events.first(type: OutcomeEvents.responseType, commandId: create))
                }

                // 3. A lookup in the wrong place (a purchase asked as a payout) while the payment waits.
                let (waiting, _) = try await openPurchase("waiting")
                payments.append(waiting)
                let wrongPlace = try await world.send(.amanpayStatus, data: [
                    "paymentId": .string(waiting.paymentId), "paymentType": .string("payout")])
                let notFound = try await world.events.first(type: OutcomeEvents.responseType, commandId: wrongPlace)
                #expect(notFound.data["error"]?["class"]?.stringValue == "not_found")
                #expect(notFound.status == "unknown")

                // 4. SPECIFICATION (no paymentID: placed by providerPaymentId), the payment then succeeds, and the
                //    SPECIFICATION callback is replayed.
                let (otp, otpAnswer) = try await openPurchase("otp", initialStatus: "SPECIFICATION")
                payments.append(otp)
                let transactionId = try #require(otpAnswer.data["providerPaymentId"]?.stringValue)
                @Sendable func specifications(_ events: [RecordedEvent]) -> Int {
                    events.filter { $0.data["confirmedBy"]?.stringValue == "signature"
                        && $0.data["providerPaymentId"]?.stringValue == transactionId }.count
                }
                try await world.events.wait(for: "the SPECIFICATION callback") { specifications($0) == 1 }
                #expect(sandbox.completeAmanpay(paymentId: otp.paymentId, status: "SUCCESS"))
                try await world.events.wait(for: "the OTP payment's succeeded callback") { events in
                    events.contains { $0.event.type == OutcomeEvents.callbackType
                        && $0.data["paymentId"]?.stringValue == otp.paymentId && $0.status == "succeeded" }
                }
                let specificationDelivery = try #require(sandbox.callbackDeliveries().firstIndex {
                    $0.body.contains("SPECIFICATION") && $0.body.contains("\"transactionId\":\(transactionId)")
                })
                #expect(sandbox.replayCallback(at: specificationDelivery))
                try await world.events.wait(for: "the replayed SPECIFICATION callback") { specifications($0) == 2 }

                // 5. FirstPay SUCCESS → FAILED → SUCCESS.
                let corrected = Payment(provider: .firstpay, paymentId: Self.fresh("fp"))
                payments.append(corrected)
                let payIn = try await world.send(.firstpayPayIn, data: firstpayPaymentData(corrected.paymentId))
                _ = try await world.events.first(type: OutcomeEvents.responseType, commandId: payIn)
                @Sendable func callbacks(_ events: [RecordedEvent]) -> [String?] {
                    events.filter { $0.event.type == OutcomeEvents.callbackType
                        && $0.data["paymentId"]?.stringValue == corrected.paymentId }.map(\.status)
                }
                #expect(sandbox.completeFirstPay(merchantPaymentId: corrected.paymentId, status: "SUCCESS"))
                try await world.events.wait(for: "FirstPay's SUCCESS postback") { callbacks($0).count == 1 }
                #expect(sandbox.flipFirstPay(merchantPaymentId: corrected.paymentId))
                try await world.events.wait(for: "FirstPay's FAILED correction") { callbacks($0).count == 2 }
                #expect(sandbox.flipFirstPay(merchantPaymentId: corrected.paymentId))
                try await world.events.wait(for: "FirstPay's second SUCCESS") { callbacks($0).count == 3 }
                #expect(callbacks(world.events.all) == ["succeeded", "failed", "succeeded"])

                // 6. A callback that never comes: reconciliation finds the change.
                let (quiet, _) = try await openPurchase("quiet")
                payments.append(quiet)
                #expect(sandbox.completeAmanpay(paymentId: quiet.paymentId, status: "CANCELLED", notify: false))
                try await world.events.wait(for: "the reconciliation's cancelled") { events in
                    events.contains { $0.data["reconciliation"] != nil
                        && $0.data["paymentId"]?.stringValue == quiet.paymentId && $0.status == "cancelled" }
                }

                // 7. The same create delivered twice (a producer's redelivery), then its callback.
                let twice = Payment(provider: .amanpay, paymentId: Self.fresh("twice"))
                payments.append(twice)
                sandbox.addFault(SandboxFault(provider: "amanpay", operation: "purchase", paymentId: twice.paymentId,
                                              initialStatus: "REDIRECT", outcome: "NONE"))
                let twiceId = "cmd-\(UUID().uuidString.lowercased())"
                _ = try await world.send(.amanpayPurchase, id: twiceId, data: purchaseData(twice.paymentId))
                _ = try await world.send(.amanpayPurchase, id: twiceId, data: purchaseData(twice.paymentId))
                try await world.events.wait(for: "both answers to the create sent twice") { events in
                    events.filter { $0.commandId == twiceId && $0.event.type == OutcomeEvents.responseType }.count == 2
                }
                #expect(sandbox.completeAmanpay(paymentId: twice.paymentId, status: "FAILED",
                                                errorCode: "INSUFFICIENT_WALLET_BALANCE"))

                // Every payment: the projection of the live stream agrees with the provider.
                let all = payments
                try await world.events.wait(timeout: .seconds(60), for: "projection equal to the provider") { events in
                    Self.mismatches(all, Self.projection(events), sandbox).isEmpty
                }
                let projection = Self.projection(world.events.all)
                #expect(Self.mismatches(payments, projection, sandbox) == [])
                #expect(projection.waitingCount == 0, "every SPECIFICATION event was placed")
                for event in world.events.all { expectValid(event) }
                let postbacks = world.events.all.filter { $0.data["raw"]?["hash"] != nil
                    || $0.data["raw"]?["publicKey"] != nil || $0.data["statusRead"]?["hash"] != nil }
                #expect(postbacks.isEmpty, "no event carries a signed postback's hash or key")
                #expect(world.events.all.contains { $0.data["provider"] == "firstpay" && $0.data["raw"]?["id"] != nil })
                return payments
            }

            // PayBridge has stopped: nothing more is published. An order service that lost its database rebuilds
            // from the history stream alone, and ends where the live projection did.
            let history = try await HistoryReader(connection: world.client, options: .init(since: started)).read()
            let replayedIds = Set(history.compactMap { $0.event?.id })
            try await world.events.wait(for: "every replayed event received live too") { events in
                replayedIds.isSubset(of: Set(events.map(\.event.id)))
            }
            var rebuilt = PaymentStatusProjection()
            for received in history { if let event = received.event { rebuilt.apply(event) } }
            let live = Self.projection(world.events.all)
            #expect(Self.mismatches(payments, rebuilt, world.sandbox) == [])
            for payment in payments {
                #expect(rebuilt[payment.key] == live[payment.key], "\(payment): the same event decides")
            }
            #expect(Set(world.events.all.map(\.event.id)) == replayedIds, "the stream holds every event")

            // docs/integration-lifecycle.md's jq recipe over `paybridge events replay --json` output says the same.
            let recipe = try Self.jqRecipe(over: history.map(\.body))
            for payment in payments {
                #expect(recipe[payment.key] == rebuilt[payment.key]?.status, "\(payment): the documented jq recipe")
            }
        }
    }
}
