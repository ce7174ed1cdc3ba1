import Amanpay
import FirstPay
import Foundation
import Logging
import PayBridgeContract
import ProviderCore

/// Receives a provider callback/postback: verifies it and stores it as a ``CallbackNotification`` on the
/// provider's command queue, where a worker confirms it with a status read and publishes what the provider's API
/// says (issue 11, "store, then acknowledge"). A provider API outage therefore never turns into a lost callback.
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
    }

    let amanpay: AmanpayClient?
    let firstpay: FirstPayClient?
    let publisher: any OutcomeSink
    let metrics: PayBridgeMetrics
    let logger: Logger

    func handle(provider: Provider, body: [UInt8], authorization: String?) async -> Answer {
        let answer = await verifyAndStore(provider: provider, body: body, authorization: authorization)
        let label: String
        switch answer {
        case .accepted: label = "accepted"
        case .unauthorized: label = "unauthorized"
        case .badRequest: label = "bad_request"
        case .unavailable: label = "unavailable"
        }
        metrics.callback(provider: provider.rawValue, result: label)
        return answer
    }

    private func verifyAndStore(provider: Provider, body: [UInt8], authorization: String?) async -> Answer {
        do {
            switch provider {
            case .amanpay:
                guard let amanpay else { return .badRequest("amanpay is not configured") }
                _ = try amanpay.verifyCallback(body: body, authorization: authorization)  // A2, A7
            case .firstpay:
                guard let firstpay else { return .badRequest("firstpay is not configured") }
                _ = try firstpay.verifyPostback(body: body)  // F2
            }
        } catch let error as ProviderError {
            logger.warning("callback rejected", metadata: [
                "paybridge.provider": "\(provider.rawValue)", "paybridge.reason": "\(error.code)",
            ])
            return error.code.contains("SIGNATURE") ? .unauthorized(error.code) : .badRequest(error.code)
        } catch {
            return .badRequest("unreadable callback")
        }
        let notification = CallbackNotification(
            provider: provider, body: body, signature: provider == .amanpay ? authorization : nil,
            receivedAt: Date(), id: UUID().uuidString.lowercased())
        do {
            try await publisher.store(notification)
        } catch {
            logger.error("callback verified but not stored; answering 503 so the provider retries",
                         metadata: ["paybridge.provider": "\(provider.rawValue)", "error": "\(error)"])
            return .unavailable("callback not confirmed by the broker")
        }
        logger.info("callback stored for confirmation", metadata: [
            "paybridge.provider": "\(provider.rawValue)", "paybridge.notification_id": "\(notification.id)",
        ])
        return .accepted(notificationId: notification.id)
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
