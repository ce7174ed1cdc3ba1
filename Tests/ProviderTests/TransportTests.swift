import Logging
import PaymentVocabulary
import ProviderCore
import ProviderSandbox
import Testing

@Suite("ProviderHTTPTransport")
struct TransportTests {
    /// An (unsigned) Amanpay balance request: the sandbox records it and applies its faults before it answers
    /// with a JSON error (401), a body of well over 16 bytes.
    let balanceBody = #"{"merchant_id":1758378}"#

    @Test func aResponseOverTheSizeLimitIsATransientErrorThatMayHaveReachedTheProvider() async throws {
        try await withSandbox { sandbox in
            let transport = ProviderHTTPTransport(timeouts: .init(maxResponseBytes: 16))
            defer { Task { try? await transport.shutdown() } }
            let error = await #expect(throws: ProviderError.self) {
                try await transport.post(
                    url: sandbox.baseURL + "/merchants/balance", headers: [], body: balanceBody, provider: .amanpay,
                    operation: "balance", logger: quietLogger)
            }
            #expect(error?.code.rawValue == "RESPONSE_TOO_LARGE")
            #expect(error?.errorClass == .transient)
            #expect(error?.mayHaveReachedProvider == true)
            // The same request with the default limit gets its whole response.
            let unlimited = ProviderHTTPTransport()
            let response = try await unlimited.post(
                url: sandbox.baseURL + "/merchants/balance", headers: [], body: balanceBody, provider: .amanpay,
                operation: "balance", logger: quietLogger)
            try await unlimited.shutdown()
            #expect(response.body.count > 16)
        }
    }

    @Test func cancellingTheCallingTaskCancelsTheRequestWithoutWaitingForTheResponse() async throws {
        try await withSandbox { sandbox in
            sandbox.addFault(SandboxFault(provider: "amanpay", latencyMs: 30_000))
            let transport = ProviderHTTPTransport(timeouts: .init(request: .seconds(60)))
            let started = ContinuousClock.now
            let call = Task {
                try await transport.post(
                    url: sandbox.baseURL + "/merchants/balance", headers: [], body: balanceBody, provider: .amanpay,
                    operation: "balance", logger: quietLogger)
            }
            // Cancel once the request is at the provider (the sandbox records it before its 30 s delay). There is
            // no event to await for that, so this polls the sandbox's record, bounded.
            while sandbox.receivedRequests().isEmpty, ContinuousClock.now - started < .seconds(10) {
                try await Task.sleep(for: .milliseconds(5))
            }
            #expect(sandbox.receivedRequests().count == 1)
            call.cancel()
            await #expect(throws: CancellationError.self) { try await call.value }
            // Far less than the sandbox's 30 s: the call did not wait for the response.
            #expect(ContinuousClock.now - started < .seconds(10))
            try await transport.shutdown()
        }
    }
}
