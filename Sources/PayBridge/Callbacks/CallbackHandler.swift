import Amanpay
import FirstPay
import Foundation
import Logging
import PayBridgeContract
import PayBridgeRules
import PayBridgeTracing
import PaymentVocabulary
import ProviderCore
import StrictJSON
import Tracing

/// Receives a provider callback/postback: verifies it and stores it as a ``CallbackNotification`` on the
/// provider's command queue, where a worker confirms it with a status read and publishes what the provider's API
/// says ("store, then acknowledge"). A provider API outage therefore never turns into a lost callback.
///
/// The HTTP answer tells the provider whether to retry: 200 only after the broker confirmed the stored
/// notification, 401 for a bad signature (nothing stored), 400 for a malformed body, 503 when the broker is
/// unavailable.
struct CallbackHandler: Sendable {
    enum Answer: Equatable {
        /// Verified and stored; a worker confirms it.
        case accepted(notificationId: String)
        case unauthorized(String)
        case badRequest(String)
        case unavailable(String)
        /// The path names an account this deployment does not have (404).
        case unknownAccount(String)
    }

    /// Amanpay's client per merchant account; a callback is verified with the key of its path's account.
    let amanpay: [MerchantAccount: AmanpayClient]
    /// FirstPay's client per merchant account.
    let firstpay: [MerchantAccount: FirstPayClient]
    let publisher: any OutcomeSink
    let metrics: PayBridgeMetrics
    let logger: Logger
    /// Each callback starts a new trace (`callback <provider>`, a server span); the notification it stores carries
    /// it on to the worker and the events. A `traceparent` the request brings (a provider or gateway that
    /// propagates one) becomes a link, not the parent: the provider's request is not part of PayBridge's work.
    var tracer: any Tracer = PayBridgeTracer()

    init(amanpay: [MerchantAccount: AmanpayClient], firstpay: [MerchantAccount: FirstPayClient],
         publisher: any OutcomeSink, metrics: PayBridgeMetrics, logger: Logger) {
        self.amanpay = amanpay
        self.firstpay = firstpay
        self.publisher = publisher
        self.metrics = metrics
        self.logger = logger
    }

    /// One client per provider, as the account `default`.
    init(amanpay: AmanpayClient?, firstpay: FirstPayClient?, publisher: any OutcomeSink, metrics: PayBridgeMetrics,
         logger: Logger) {
        self.init(amanpay: amanpay.map { [MerchantAccount.default: $0] } ?? [:],
                  firstpay: firstpay.map { [MerchantAccount.default: $0] } ?? [:],
                  publisher: publisher, metrics: metrics, logger: logger)
    }

    /// Handles a callback that arrived on `/callbacks/<provider>/<account>` (`account` is the path's text, checked
    /// here; `/callbacks/<provider>` is `default`), in a new trace (see ``tracer``).
    func handle(provider: Provider, account accountName: String = MerchantAccount.default.name, body: [UInt8],
                authorization: String?, trace: TraceHeaders? = nil) async -> Answer {
        await tracer.withAnySpan("callback \(provider.rawValue)", context: .topLevel, ofKind: .server) { span in
            if let trace {
                span.addLink(SpanLink(context: trace.context(tracer: tracer), attributes: [:]))
            }
            if span.isRecording {
                span.attributes["http.request.method"] = "POST"
                span.attributes["http.route"] = "/callbacks/\(provider.rawValue)/{account}"
                span.attributes["paybridge.provider"] = provider.rawValue
            }
            let answer = await handleInSpan(provider: provider, accountName: accountName, body: body,
                                            authorization: authorization, span: span)
            switch answer {
            case .accepted(let id):
                if span.isRecording { span.attributes["paybridge.notification_id"] = id }
            case .unauthorized(let reason), .badRequest(let reason), .unavailable(let reason),
                 .unknownAccount(let reason):
                span.setStatus(SpanStatus(code: .error, message: reason))
            }
            return answer
        }
    }

    /// The callback in its span: it arrived on `/callbacks/<provider>/<account>` (`account` is the path's text, checked
    /// here; `/callbacks/<provider>` is `default`).
    private func handleInSpan(provider: Provider, accountName: String, body: [UInt8], authorization: String?,
                              span: any Span) async -> Answer {
        let account = MerchantAccount(accountName)
        let configured = account.map { provider == .amanpay ? amanpay[$0] != nil : firstpay[$0] != nil } ?? false
        let answer: Answer
        if let account, configured {
            if span.isRecording { span.attributes["paybridge.account"] = account.name }
            answer = await verifyAndStore(provider: provider, account: account, body: body,
                                          authorization: authorization, span: span)
        } else if provider == .amanpay ? amanpay.isEmpty : firstpay.isEmpty {
            answer = .badRequest("\(provider.rawValue) is not configured")
        } else {
            answer = .unknownAccount("no \(provider.rawValue) account of that name")
        }
        let label: String
        switch answer {
        case .accepted: label = "accepted"
        case .unauthorized: label = "unauthorized"
        case .badRequest: label = "bad_request"
        case .unavailable: label = "unavailable"
        case .unknownAccount: label = "unknown_account"
        }
        metrics.callback(provider: provider.rawValue, account: configured ? account : nil, result: label)
        return answer
    }

    private func verifyAndStore(provider: Provider, account: MerchantAccount, body: [UInt8], authorization: String?,
                                span: any Span) async -> Answer
    {
        do {
            let claim: ProviderResult
            switch provider {
            case .amanpay:
                guard let amanpay = amanpay[account] else { return .badRequest("amanpay is not configured") }
                claim = try amanpay.verifyCallback(body: body, authorization: authorization)  // A2, A7
            case .firstpay:
                guard let firstpay = firstpay[account] else { return .badRequest("firstpay is not configured") }
                claim = try firstpay.verifyPostback(body: body)  // F2
            }
            if span.isRecording, let paymentId = claim.merchantPaymentId {
                span.attributes["paybridge.payment_id"] = paymentId
            }
        } catch let error as ProviderError {
            logger.warning("callback rejected", metadata: [
                PayBridgeLoggingKeys.provider: "\(provider.rawValue)", PayBridgeLoggingKeys.account: "\(account.name)",
                PayBridgeLoggingKeys.reason: "\(error.code)",
            ])
            return error.code.isSignatureFailure ? .unauthorized(error.code.rawValue) : .badRequest(error.code.rawValue)
        } catch {
            return .badRequest("unreadable callback")
        }
        let notification = CallbackNotification(
            provider: provider, account: account, body: body, signature: provider == .amanpay ? authorization : nil,
            receivedAt: Date(), id: UUID().uuidString.lowercased())
        do {
            try await publisher.store(notification)
        } catch {
            logger.error("callback verified but not stored; answering 503 so the provider retries",
                         metadata: [PayBridgeLoggingKeys.provider: "\(provider.rawValue)", PayBridgeLoggingKeys.error: "\(error)"])
            return .unavailable("callback not confirmed by the broker")
        }
        logger.info("callback stored for confirmation", metadata: [
            PayBridgeLoggingKeys.provider: "\(provider.rawValue)", PayBridgeLoggingKeys.account: "\(account.name)",
            PayBridgeLoggingKeys.notificationId: "\(notification.id)",
        ])
        return .accepted(notificationId: notification.id)
    }

    /// The callback's operation: Amanpay `paymentType` (purchase | payout); FirstPay's payment `type`
    /// (`PAY_IN`/`PAY_OUT` → `pay_in`/`pay_out`) when present.
    static func kind(provider: Provider, raw: JSONValue) -> PaymentCommandKind? {
        switch provider {
        case .amanpay:
            switch raw["paymentType"]?.stringValue {
            case "purchase": .amanpayPurchase
            case "payout": .amanpayPayout
            default: nil
            }
        case .firstpay:
            switch raw["type"]?.stringValue?.lowercased() {
            case "pay_in": .firstpayPayIn
            case "pay_out": .firstpayPayOut
            default: nil
            }
        }
    }
}
