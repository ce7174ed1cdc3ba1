import Foundation
@testable import PayBridge
import PayBridgeTestKit
import PayBridgeContract
import ProviderSandbox
import Testing

/// The operators' views: the metric names deploy/grafana-dashboard.json and deploy/prometheus-rules.yaml
/// query are what a running worker and callbacks endpoint export on `/metrics`, and the metrics added for them
/// (paused providers, consumer capacity, provider error classes) follow what happens.
@Suite(.timeLimit(.minutes(3))) struct OperatorViewsEndToEndTests {
    /// Every `paybridge_*` name the views query, with the file it comes from.
    static func namesInTheViews() throws -> [String: String] {
        var names: [String: String] = [:]
        let dashboard = try OperatorViews.dashboardExpressions(OperatorViews.read(OperatorViews.dashboardPath))
        let rulesText = try OperatorViews.read(OperatorViews.rulesPath)
        let rules = OperatorViews.ruleExpressions(rulesText)
        #expect(dashboard.count >= 20, "the dashboard's queries were found (\(dashboard.count))")
        #expect(rules.count == OperatorViews.ruleCount(rulesText), "one expr per rule (\(rules.count))")
        for (path, expressions) in [(OperatorViews.dashboardPath, dashboard), (OperatorViews.rulesPath, rules)] {
            for expression in expressions {
                for name in OperatorViews.metricNames(in: expression) where names[name] == nil { names[name] = path }
            }
        }
        return names
    }

    /// The checker itself: names come from selectors, not from label values; a histogram is exported through its
    /// series, never by its family name alone.
    @Test func theNameCheckReadsSelectorsAndHistogramSeries() {
        let expression = #"sum by (provider) (rate(paybridge_a_total{result="paybridge_not_a_metric"}[5m])) "#
            + #"/ on (provider) histogram_quantile(0.9, paybridge_h_seconds_bucket) > paybridge_g"#
        #expect(OperatorViews.metricNames(in: expression) == ["paybridge_a_total", "paybridge_h_seconds_bucket", "paybridge_g"])
        let exposition = PrometheusExposition("""
            # HELP paybridge_h_seconds Latency.
            # TYPE paybridge_h_seconds histogram
            paybridge_h_seconds_bucket{provider="amanpay",le="0.5"} 0
            paybridge_h_seconds_bucket{provider="amanpay",le="+Inf"} 0
            paybridge_h_seconds_sum{provider="amanpay"} 0.0
            paybridge_h_seconds_count{provider="amanpay"} 0
            # TYPE paybridge_a_total counter
            paybridge_a_total{provider="amanpay",result="a \\\"quoted\\\", value"} 2
            paybridge_a_total{provider="firstpay",result="b"} 3
            # TYPE paybridge_g gauge
            """)
        #expect(exposition.exports("paybridge_h_seconds_bucket") && exposition.exports("paybridge_h_seconds_count"))
        #expect(!exposition.exports("paybridge_h_seconds"), "a histogram family has no samples of its own name")
        #expect(exposition.exports("paybridge_a_total"))
        #expect(!exposition.exports("paybridge_g"), "declared, but no sample")
        #expect(!exposition.exports("paybridge_a"))
        #expect(exposition.value("paybridge_a_total") == 5)
        #expect(exposition.value("paybridge_a_total", ["result": "a \"quoted\", value"]) == 2)
        #expect(exposition.value("paybridge_a_total", ["provider": "none"]) == nil)
    }

    @Test func everyMetricTheDashboardAndTheAlertsQueryIsExportedFromTheFirstScrape() async throws {
        let names = try Self.namesInTheViews()
        #expect(names.count >= 14, "metric names found in the views: \(names.keys.sorted())")
        try await EndToEnd.run(recordEvents: false) { world in
            let configuration = try world.configuration()
            // The deployment's two roles, each scraped once right after start: no command, callback or failure has
            // happened yet, so every series an alert or panel needs must be registered up front.
            try await world.withPayBridge(configuration, role: .worker) { worker in
                try await world.withPayBridge(configuration, role: .callbacks) { callbacks in
                    let scrapes = [try await MetricsScraper(adminPort: await worker.adminPort()).scrape(),
                                   try await MetricsScraper(adminPort: await callbacks.adminPort()).scrape()]
                    for (name, path) in names.sorted(by: { $0.key < $1.key }) {
                        #expect(scrapes.contains { $0.exports(name) },
                                "\(path) queries \(name), which neither the worker's nor the callbacks' /metrics exports")
                    }
                }
            }
        }
    }

    @Test func pausedGaugeCapacityAndErrorClassFollowAProviderThatRefusesTheCredentials() async throws {
        try await EndToEnd.run { world in
            var configuration = try world.configuration()
            configuration.concurrency = 7
            configuration.providerPause = (initial: .seconds(2), maximum: .seconds(2))
            try await world.withPayBridge(configuration, role: .worker) { runtime in
                let metrics = MetricsScraper(adminPort: await runtime.adminPort())
                let firstpay = ["provider": "firstpay"]
                let configurationErrors = ["provider": "firstpay", "class": "configuration"]
                let before = try await metrics.scrape()
                #expect(before.value("paybridge_provider_paused", firstpay) == 0)
                #expect(before.value("paybridge_consumer_capacity", firstpay) == 7)
                #expect(before.value("paybridge_provider_errors_total", configurationErrors) == 0)

                // FirstPay answers 401 once: a configuration failure, the worker puts the command back and pauses.
                let paymentId = "ops-\(UUID().uuidString.prefix(8))"
                world.sandbox.addFault(SandboxFault(provider: "firstpay", operation: "pay_in", paymentId: paymentId,
                                                    times: 1, errorCode: "UNAUTHORIZED"))
                let id = try await world.send(.firstpayPayIn, data: firstpayPaymentData(paymentId))
                let paused = try await metrics.scrape(until: "firstpay paused") {
                    $0.value("paybridge_provider_paused", firstpay) == 1
                }
                #expect(paused.value("paybridge_provider_errors_total", configurationErrors) == 1)
                #expect(paused.value("paybridge_provider_paused", ["provider": "amanpay"]) == 0, "only FirstPay paused")

                // The pause ends, the worker consumes again and executes the command it put back.
                _ = try await world.events.first(type: OutcomeEvents.responseType, commandId: id, timeout: .seconds(30))
                // Counted once its outcome was confirmed, which may be just after the event arrived.
                let response = ["provider": "firstpay", "outcome": "response"]
                let resumed = try await metrics.scrape(until: "firstpay resumed, the command counted") {
                    $0.value("paybridge_provider_paused", firstpay) == 0 && $0.value("paybridge_commands_total", response) == 1
                }
                // Put back at least once (its copy may reach the consumer before the cancellation and go back again).
                #expect((resumed.value("paybridge_commands_total", ["provider": "firstpay", "outcome": "put_back"]) ?? 0) >= 1)
                #expect(resumed.value("paybridge_provider_errors_total", configurationErrors) == 1)
            }
        }
    }
}
