public import Logging
public import PaymentVocabulary

/// What a provider client needs from its HTTP transport: one JSON POST, answered with the whole response or a
/// transient ``ProviderError`` (A4), and a shutdown. ``NIOHTTPTransport`` (the minimal NIO client, what the worker
/// uses by default) and ``ProviderHTTPTransport`` (AsyncHTTPClient, `PAYBRIDGE_HTTP_TRANSPORT=asynchttpclient`) both
/// are one, so the clients' tests run on either.
public protocol ProviderTransport: Sendable {
    func post(
        url: String,
        headers: [(String, String)],
        body: String,
        provider: Provider,
        operation: String,
        logger: Logger
    ) async throws -> TransportResponse

    /// Closes what the transport owns.
    func shutdown() async throws
}

extension ProviderHTTPTransport: ProviderTransport {}
extension NIOHTTPTransport: ProviderTransport {}
