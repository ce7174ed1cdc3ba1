import Hummingbird
import HTTPTypes
import PayBridgeTracing
import Logging
import NIOCore
import PayBridgeContract
import PaymentVocabulary
import ServiceLifecycle

/// The public listener as a `Service`: `POST /callbacks/{amanpay,firstpay}[/<account>]` and nothing else (404
/// elsewhere, health and metrics included: they are on ``AdminHTTPServer``'s port).
final class CallbackHTTPServer: Service, Sendable {
    /// Callback bodies larger than this are refused with 413.
    static let maximumCallbackBytes = 64 * 1024

    let listener: HTTPListener
    let callbacks: CallbackHandler
    /// `nil` when `PAYBRIDGE_CALLBACK_RATE_LIMIT` is 0.
    let rateLimiter: CallbackRateLimiter?

    init(host: String, port: Int, limits: HTTPListenerLimits, rateLimit: CallbackRateLimit = .default,
         callbacks: CallbackHandler, metrics: PayBridgeMetrics, logger: Logger) {
        var limits = limits
        limits.maximumRequestBodyBytes = Self.maximumCallbackBytes
        listener = HTTPListener(name: "callbacks", host: host, port: port, limits: limits, metrics: metrics,
                                logger: logger)
        self.callbacks = callbacks
        rateLimiter = rateLimit.isOn ? CallbackRateLimiter(limit: rateLimit, metrics: metrics) : nil
    }

    /// The bound port once the server runs (useful with port 0); 0 when it stopped without listening.
    func boundPort() async -> Int {
        await listener.boundPort()
    }

    func run() async throws {
        try await listener.run(router: Self.makeRouter(callbacks: callbacks, rateLimiter: rateLimiter))
    }

    /// The callback routes, answered by `callbacks`: `POST /callbacks/<provider>/<account>` per provider
    /// (verified with that merchant account's key) and `POST /callbacks/<provider>`, the account `default`.
    /// With a `rateLimiter`, a request over its client's limit is answered 429 before its body is read.
    /// What the server runs, and what the tests drive with Hummingbird's test client.
    static func makeRouter(callbacks: CallbackHandler, rateLimiter: CallbackRateLimiter? = nil)
        -> Router<CallbackRequestContext>
    {
        let router = Router(context: CallbackRequestContext.self)
        for provider in Provider.allCases {
            let route: @Sendable (Request, CallbackRequestContext) async throws -> Response = {
                [callbacks, rateLimiter] request, context in
                let account = context.parameters.get("account") ?? MerchantAccount.default.name
                if let rateLimiter, case .refused(let retryAfter) = rateLimiter.take(.init(
                    client: ClientAddress(context.remoteAddress), provider: provider,
                    account: callbacks.configuredAccount(provider: provider, name: account)))
                {
                    return Self.tooManyRequests(retryAfterSeconds: retryAfter)
                }
                var request = request
                let buffer: ByteBuffer
                do {
                    buffer = try await request.collectBody(upTo: Self.maximumCallbackBytes)
                } catch is NIOTooManyBytesError {
                    // A body without Content-Length that grew past the limit (a declared one never gets here).
                    return JSONResponseBody.response(
                        status: .contentTooLarge,
                        JSONResponseBody.ErrorBody(error: "request body over \(Self.maximumCallbackBytes) bytes"))
                }
                let answer = await callbacks.handle(
                    provider: provider, account: account, body: Array(buffer.readableBytesView),
                    authorization: request.headers[.authorization],
                    trace: request.headers[.traceparent].map {
                        TraceHeaders(traceparent: $0, tracestate: request.headers[.tracestate])
                    })
                return Self.response(answer)
            }
            router.post("/callbacks/\(provider.rawValue)", use: route)
            router.post("/callbacks/\(provider.rawValue)/:account", use: route)
        }
        return router
    }

    /// What a provider reads back: `{"notificationId":…}` or `{"error":…}`.
    struct AnswerBody: Encodable {
        var notificationId: String?
        var error: String?
    }

    /// 429 with `Retry-After`: the client's bucket for this provider and account is empty. The body, if any, is
    /// never read (Hummingbird discards it before the next request).
    static func tooManyRequests(retryAfterSeconds: Int) -> Response {
        var response = JSONResponseBody.response(
            status: .tooManyRequests, AnswerBody(error: "too many callbacks from this client for this account"))
        response.headers[.retryAfter] = "\(retryAfterSeconds)"
        return response
    }

    static func response(_ answer: CallbackHandler.Answer) -> Response {
        switch answer {
        case .accepted(let id): JSONResponseBody.response(status: .ok, AnswerBody(notificationId: id))
        case .unauthorized(let reason): JSONResponseBody.response(status: .unauthorized, AnswerBody(error: reason))
        case .badRequest(let reason): JSONResponseBody.response(status: .badRequest, AnswerBody(error: reason))
        case .unavailable(let reason):
            JSONResponseBody.response(status: .serviceUnavailable, AnswerBody(error: reason))
        case .unknownAccount(let reason): JSONResponseBody.response(status: .notFound, AnswerBody(error: reason))
        }
    }
}

/// The callback routes' request context: Hummingbird's basics and the client's address, which the rate limit is
/// keyed by (`nil` in Hummingbird's router tests, which have no socket).
struct CallbackRequestContext: RequestContext, RemoteAddressRequestContext {
    var coreContext: CoreRequestContextStorage
    let remoteAddress: SocketAddress?

    init(source: ApplicationRequestContextSource) {
        coreContext = CoreRequestContextStorage(source: source)
        remoteAddress = source.channel.remoteAddress
    }
}

extension CallbackHandler {
    /// The account `name` names when it is one of `provider`'s configured accounts, else `nil`.
    func configuredAccount(provider: Provider, name: String) -> MerchantAccount? {
        guard let account = MerchantAccount(name) else { return nil }
        let configured = switch provider {
        case .amanpay: amanpay[account] != nil
        case .firstpay: firstpay[account] != nil
        }
        return configured ? account : nil
    }
}

extension HTTPField.Name {
    static let traceparent = HTTPField.Name("traceparent")!
    static let tracestate = HTTPField.Name("tracestate")!
}
