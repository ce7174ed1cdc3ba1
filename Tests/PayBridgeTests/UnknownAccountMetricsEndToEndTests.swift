import Foundation
@testable import PayBridge
import PayBridgeContract
import Testing

/// End to end: a `paybridge worker` on its own vhost takes commands naming many merchant accounts
/// it does not have; `/metrics`, scraped as Prometheus does, counts them all under `account="unknown"`, so no name a
/// sender makes up becomes a series.
@Suite(.timeLimit(.minutes(3))) struct UnknownAccountMetricsEndToEndTests {
    @Test func commandsNamingManyUnconfiguredAccountsProduceOnlyTheUnknownLabel() async throws {
        try await EndToEnd.run { world in
            try await world.withPayBridge(try world.configuration(), role: .worker) { runtime in
                let metrics = MetricsScraper(adminPort: await runtime.adminPort())
                let configured = Set(try await metrics.scrape().samples.compactMap { $0.labels["account"] })
                #expect(!configured.contains("unknown"))

                let count = 40
                var ids: [String] = []
                for n in 0..<count {
                    var data = purchaseData("unknown-account-\(n)-\(UUID().uuidString.prefix(8))")
                    data["account"] = .string("made-up-\(n)")
                    ids.append(try await world.send(.amanpayPurchase, data: data))
                }
                let failed = Set(ids)
                try await world.events.wait(for: "command.failed for every command") { events in
                    failed.isSubset(of: Set(events.filter { $0.event.type == OutcomeEvents.commandFailedType }
                        .compactMap(\.commandId)))
                }
                let unknown = ["provider": "amanpay", "account": "unknown"]
                // A delivery's command and dead-letter counters are two increments: wait for both, or a scrape between
                // them sees one less dead letter.
                let scrape = try await metrics.scrape(until: "every command and its dead letter counted") {
                    $0.value("paybridge_commands_total", unknown.merging(["outcome": "failed"]) { $1 }) == Double(count)
                        && $0.value("paybridge_dead_letters_total", unknown) == Double(count)
                }
                let labels = Set(scrape.samples.compactMap { $0.labels["account"] })
                #expect(labels == configured.union(["unknown"]), "the only new label value is unknown")
                #expect(scrape.value("paybridge_dead_letters_total", unknown) == Double(count))
            }
        }
    }
}
