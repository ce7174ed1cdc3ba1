import Foundation
@testable import PayBridge
import PayBridgeContract
import Testing

/// `PAYBRIDGE_HTTP_TRANSPORT` through the broker and the sandbox: the worker calls both providers with either HTTP
/// client (the other end-to-end suites run on the default, `nio`), and the graceful shutdown closes it.
@Suite(.timeLimit(.minutes(3))) struct ProviderHTTPTransportEndToEndTests {
    @Test(arguments: ProviderHTTPTransportKind.allCases)
    func theWorkerCallsBothProvidersWithEitherTransport(_ kind: ProviderHTTPTransportKind) async throws {
        try await EndToEnd.run { world in
            var configuration = try world.configuration()
            configuration.httpTransport = kind
            try await world.withPayBridge(configuration) { _ in
                let paymentId = "transport-\(kind.rawValue)-\(UUID().uuidString.prefix(8))"
                let purchase = try await world.send(.amanpayPurchase, data: purchaseData(paymentId))
                let status = try await world.send(.firstpayStatus, data: [
                    "merchantPaymentId": .string("nobody-\(UUID().uuidString.prefix(8))")])
                let created = try await world.events.first(type: OutcomeEvents.responseType, commandId: purchase)
                #expect(created.routingKey == "amanpay.purchase.response")
                #expect(created.data["error"] == nil)
                let read = try await world.events.first(type: OutcomeEvents.responseType, commandId: status)
                #expect(read.routingKey == "firstpay.status.response")
                #expect(read.data["error"]?["code"]?.stringValue == "NOT_FOUND")
                #expect(world.sandbox.receivedRequests().filter { $0.paymentId == paymentId }.count == 1)
            }
        }
    }
}
