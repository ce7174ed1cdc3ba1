import Amanpay
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
@testable import PayBridge
import PayBridgeRules
import PayBridgeContract
import ProviderCore
import StrictJSON
import Testing

/// `/callbacks/<provider>/<account>` verifies with that account's key and stores the account with
/// the notification; `/callbacks/<provider>` is `default`; an account the deployment does not have is 404. Through
/// Hummingbird's test client: no socket, no broker.
@Suite struct CallbackAccountRoutesTests {
    static let bd = MerchantAccount("bd")!

    @Test func eachAccountsPathVerifiesWithItsOwnKey() async throws {
        let sink = RecordingOutcomeSink()
        let clients = [
            MerchantAccount.default: AmanpayClient(configuration: AmanpayConfiguration(
                baseURL: "http://127.0.0.1:9", merchantId: 1_758_378, secretKey: "s3cr3t")),
            Self.bd: AmanpayClient(configuration: AmanpayConfiguration(
                baseURL: "http://127.0.0.1:9", merchantId: 2_000_001, secretKey: "bd-secret")),
        ]
        let callbacks = CallbackHandler(amanpay: clients, firstpay: [:], publisher: sink, metrics: PayBridgeMetrics(),
                                        logger: Logger(label: "paybridge.test"))
        let body = #"{"transactionId":"62861","paymentID":"payment_812","status":"SUCCESS","amount":250.51,"currency":"BDT","paymentType":"purchase"}"#
        let bdSignature = AmanpaySignature.signResponse(try JSONValue.parse(body), secret: "bd-secret")
        let app = Application(router: CallbackHTTPServer.makeRouter(callbacks: callbacks))
        do {
            try await app.test(.router) { client async throws in
                func post(_ path: String) async throws -> Int {
                    try await client.execute(uri: path, method: .post, headers: [.authorization: bdSignature],
                                             body: ByteBuffer(string: body)) { Int($0.status.code) }
                }
                #expect(try await post("/callbacks/amanpay/bd") == 200)
                #expect(try await post("/callbacks/amanpay") == 401, "default's key does not verify it")
                #expect(try await post("/callbacks/amanpay/default") == 401)
                #expect(try await post("/callbacks/amanpay/pk") == 404)
                #expect(try await post("/callbacks/amanpay/" + String(repeating: "a", count: 33)) == 404)
                #expect(try await post("/callbacks/amanpay/B%44") == 404)
                #expect(try await post("/callbacks/firstpay/bd") == 400, "FirstPay is not configured")
            }
        } catch {
            for client in clients.values { try await client.shutdown() }
            throw error
        }
        for client in clients.values { try await client.shutdown() }
        let stored = try #require(sink.notifications.first)
        #expect(sink.notifications.count == 1)
        #expect(stored.account == Self.bd)
        #expect(stored.properties.headers?[Topology.Headers.account]?.stringValue == "bd")
        // What the worker reads back from the queue: the same account.
        let delivery = CommandDelivery(body: stored.body, properties: stored.properties, routingKey: "payments.amanpay",
                                       exchange: Topology.internalExchange)
        #expect(CallbackNotification(delivery: delivery, provider: .amanpay, now: Date()).account == Self.bd)
        var unreadable = stored.properties
        unreadable.headers?[Topology.Headers.account] = .string("NOT AN ACCOUNT")
        let bad = CommandDelivery(body: stored.body, properties: unreadable, routingKey: "payments.amanpay",
                                       exchange: Topology.internalExchange)
        #expect(CallbackNotification(delivery: bad, provider: .amanpay, now: Date()).account == nil)
    }
}
