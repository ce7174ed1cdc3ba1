import AsyncHTTPClient
import Foundation
import PayBridgeTestKit
import NIOCore

/// Reads a runtime's `/metrics` over HTTP, as Prometheus does.
struct MetricsScraper: Sendable {
    let adminPort: Int

    func scrape() async throws -> PrometheusExposition {
        let response = try await HTTPClient.shared.execute(
            HTTPClientRequest(url: "http://127.0.0.1:\(adminPort)/metrics"), timeout: .seconds(5))
        let body = try await response.body.collect(upTo: 4 << 20)
        guard response.status == .ok else { throw ScrapeError(status: Int(response.status.code)) }
        return PrometheusExposition(String(buffer: body))
    }

    /// Scrapes until `condition` holds (bounded: 10 s); returns that scrape.
    func scrape(until what: String, _ condition: (PrometheusExposition) -> Bool) async throws -> PrometheusExposition {
        let deadline = ContinuousClock.now + .seconds(10)
        while true {
            let exposition = try await scrape()
            if condition(exposition) { return exposition }
            guard ContinuousClock.now < deadline else { throw TimeoutError(what: "/metrics: \(what)") }
            try await Task.sleep(for: .milliseconds(25))  // polling an HTTP endpoint, as a scraper does
        }
    }

    struct ScrapeError: Error {
        let status: Int
    }
}
