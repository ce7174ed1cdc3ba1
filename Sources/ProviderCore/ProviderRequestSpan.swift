import PaymentVocabulary
import Tracing

/// The client span around one provider request, the same whatever the transport: `POST <provider> <operation>`, a
/// child of the current context, attributes naming the provider and operation (never the URL's path or query: they
/// may carry ids), the status code, and an error status for a 5xx or a thrown error. Without a tracer, `post` runs
/// with no span.
enum ProviderRequestSpan {
    typealias Current = (span: any Span, tracer: any Tracer)

    static func run(
        tracer: (any Tracer)?, provider: Provider, operation: String,
        _ post: (Current?) async throws -> TransportResponse
    ) async throws -> TransportResponse {
        guard let tracer else { return try await post(nil) }
        let span = tracer.startAnySpan("POST \(provider.rawValue) \(operation)",
                                       context: ServiceContext.current ?? .topLevel, ofKind: .client)
        defer { span.end() }
        if span.isRecording {
            span.attributes["http.request.method"] = "POST"
            span.attributes["paybridge.provider"] = provider.rawValue
            span.attributes["paybridge.operation"] = operation
        }
        do {
            let response = try await post((span, tracer))
            if span.isRecording { span.attributes["http.response.status_code"] = response.status }
            if response.status >= 500 { span.setStatus(SpanStatus(code: .error)) }
            return response
        } catch {
            span.recordError(error)
            span.setStatus(SpanStatus(code: .error, message: (error as? ProviderError)?.code.rawValue))
            throw error
        }
    }
}
