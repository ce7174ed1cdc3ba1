import AsyncHTTPClient
import ServiceLifecycle

/// The one `HTTPClient` every provider client shares, as a `Service`: it is shut down when the group shuts down,
/// after the services listed after it (workers, listeners) have stopped using it.
struct HTTPClientService: Service {
    let client: HTTPClient

    func run() async throws {
        try? await gracefulShutdown()
        try await client.shutdown()
    }
}
