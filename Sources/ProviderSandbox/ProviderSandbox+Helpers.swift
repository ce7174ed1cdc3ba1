import Hummingbird
import NIOCore
import ProviderCore
import StrictJSON

extension ProviderSandbox {
    /// The body as JSON (nil when unparsable) and as text.
    func readJSON(_ request: Request) async throws -> (JSONValue?, String) {
        var request = request
        let buffer = try await request.collectBody(upTo: 1 << 20)
        let bytes = Array(buffer.readableBytesView)
        let json = try? JSONValue.parse(bytes)
        return (json?.objectMembers != nil ? json : nil, String(decoding: bytes, as: UTF8.self))
    }

    /// The request's `traceparent` header (at most 64 characters kept).
    func traceparentHeader(_ request: Request) -> String? {
        request.headers.first { $0.name.canonicalName == "traceparent" }.map { String($0.value.prefix(64)) }
    }

    func record(_ provider: String, _ operation: String, _ request: Request, paymentId: String?, valid: Bool, body: String) {
        let entry = SandboxReceivedRequest(
            provider: provider, operation: operation, path: request.uri.path, paymentId: paymentId,
            signatureValid: valid, body: body,
            traceparent: traceparentHeader(request))
        let cap = configuration.maxRecordedRequests
        state.withLock { $0.record(entry, cap: cap) }
    }

    func takeFaults(_ provider: String, _ operation: String, _ paymentId: String?) -> FaultEffect {
        state.withLock { $0.takeFaults(provider: provider, operation: operation, paymentId: paymentId) }
    }

    /// Latency first, then an injected HTTP status (5xx/429), which answers without processing.
    func applyEarlyFaults(_ effect: FaultEffect, provider: String) async throws -> Response? {
        if effect.latencyMs > 0 { try await Task.sleep(for: .milliseconds(effect.latencyMs)) }
        guard let status = effect.httpStatus else { return nil }
        var headers = HTTPFields()
        headers[.contentType] = provider == "firstpay" ? "application/json" : "text/plain"
        if let retryAfter = effect.retryAfterSeconds { headers[.retryAfter] = String(retryAfter) }
        let body = provider == "firstpay" ? "{\"error\":\"injected failure \(status)\"}" : "injected failure \(status)"
        return Response(status: .init(code: status), headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }

    func jsonResponse(_ status: Int, _ body: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: .init(code: status), headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }
}
