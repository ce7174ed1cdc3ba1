import Amanpay
import FirstPay
import Foundation
import Logging
import PayBridgeContract
import ProviderCore

/// Turns a provider callback/postback into a published `payment.callback.v1` event.
///
/// The HTTP answer tells the provider whether to retry: 200 only after the broker confirmed the event, 401 for
/// a bad signature (nothing published), 400 for a malformed body, 503 when the broker is unavailable.
struct CallbackHandler: Sendable {
    enum Answer: Equatable {
        case published(eventId: String)
        /// Verified but stale or a duplicate: answered 2xx, nothing published.
        case ignored(String)
        case unauthorized(String)
        case badRequest(String)
        case unavailable(String)
    }

    let amanpay: AmanpayClient?
    let firstpay: FirstPayClient?
    let publisher: any OutcomeSink
    let metrics: PayBridgeMetrics
    let logger: Logger
    let record = CallbackStateRecord()

    func handle(provider: Provider, body: [UInt8], authorization: String?) async -> Answer {
        let answer = await verifyAndPublish(provider: provider, body: body, authorization: authorization)
        let label: String
        switch answer {
        case .published: label = "published"
        case .ignored: label = "ignored"
        case .unauthorized: label = "unauthorized"
        case .badRequest: label = "bad_request"
        case .unavailable: label = "unavailable"
        }
        metrics.callback(provider: provider.rawValue, result: label)
        return answer
    }

    private func verifyAndPublish(provider: Provider, body: [UInt8], authorization: String?) async -> Answer {
        let result: ProviderResult
        do {
            switch provider {
            case .amanpay:
                guard let amanpay else { return .badRequest("amanpay is not configured") }
                result = try amanpay.verifyCallback(body: body, authorization: authorization)  // A2, A7
            case .firstpay:
                guard let firstpay else { return .badRequest("firstpay is not configured") }
                result = try firstpay.verifyPostback(body: body)  // F2
            }
        } catch let error as ProviderError {
            logger.warning("callback rejected", metadata: [
                "paybridge.provider": "\(provider.rawValue)", "paybridge.reason": "\(error.code)",
            ])
            return error.code.contains("SIGNATURE") ? .unauthorized(error.code) : .badRequest(error.code)
        } catch {
            return .badRequest("unreadable callback")
        }
        let key = "\(provider.rawValue):\(result.providerPaymentId ?? result.merchantPaymentId ?? "-")"
        let recorded = record.recorded(key)
        switch provider {
        case .amanpay where AmanpayClient.isStaleCallback(result, recordedProviderStatus: recorded?.status):
            return .ignored("stale: the payment's status is already final (\(recorded?.status ?? "-"))")  // A7
        case .firstpay where FirstPayClient.isDuplicatePostback(
            result, recordedProviderPaymentId: recorded?.paymentId, recordedProviderStatus: recorded?.status):
            return .ignored("duplicate postback")  // F7
        default: break
        }
        let raw = result.rawJSON
            ?? OutcomeMapping.raw(result.rawBody.isEmpty ? String(decoding: body, as: UTF8.self) : result.rawBody)
        let outcome = OutcomeMapping.outcome(
            result, provider: provider, commandId: nil, operation: Self.operation(provider: provider, raw: raw),
            paymentId: nil, attempts: nil, raw: raw)
        let message = OutcomeEvents.callback(outcome)
        do {
            try await publisher.publish(message)
        } catch {
            logger.error("callback verified but not published; answering 503 so the provider retries",
                         metadata: ["paybridge.provider": "\(provider.rawValue)", "error": "\(error)"])
            return .unavailable("event not confirmed by the broker")
        }
        if let status = result.providerStatus {
            record.record(key, paymentId: result.providerPaymentId, status: status)
        }
        logger.info("callback published", metadata: [
            "paybridge.provider": "\(provider.rawValue)", "paybridge.event_id": "\(message.event.id)",
            "paybridge.status": "\(outcome.status.rawValue)",
        ])
        return .published(eventId: message.event.id)
    }

    /// The callback's operation: Amanpay `paymentType` (purchase | payout); FirstPay's payment `type`
    /// (`PAY_IN`/`PAY_OUT` → `pay_in`/`pay_out`) when present.
    static func operation(provider: Provider, raw: JSONValue) -> String? {
        switch provider {
        case .amanpay:
            guard let type = raw["paymentType"]?.stringValue, ["purchase", "payout"].contains(type) else { return nil }
            return type
        case .firstpay:
            guard let type = raw["type"]?.stringValue?.lowercased(), ["pay_in", "pay_out"].contains(type) else {
                return nil
            }
            return type
        }
    }
}
