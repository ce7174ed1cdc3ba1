import Amanpay
import Foundation
import PayBridgeTestKit
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
@testable import PayBridge
import PayBridgeContract
import ProviderCore
import StrictJSON
import Testing

/// The callbacks router through Hummingbird's test client, with Amanpay's signed callback vectors
/// (`shared/providers/testdata`) and an in-memory ``OutcomeSink``: no socket, no broker.
@Suite struct CallbackHTTPServerTests {
    /// Amanpay's "A2: SUCCESS callback" vector: the body and its `Authorization` value (secret `s3cr3t`).
    static func successCallback() throws -> (body: String, authorization: String) {
        let text = try String(contentsOfFile: providerTestdata + "/amanpay_vectors.json", encoding: .utf8)
        let vectors = try JSONValue.parse(text).arrayValue ?? []
        let vector = try #require(vectors.first { $0["name"]?.stringValue == "A2: SUCCESS callback" })
        let body = try #require(vector["body"]?.stringValue)
        let header = try #require(vector["header"]?.stringValue)
        return (body, String(header.dropFirst("Authorization: ".count)))
    }

    func withCallbackRouter(
        sink: RecordingOutcomeSink, _ test: @Sendable (any TestClientProtocol) async throws -> Void
    ) async throws {
        // The client is only used to verify callbacks: it never sends a request.
        let amanpay = AmanpayClient(configuration: AmanpayConfiguration(
            baseURL: "http://127.0.0.1:9", merchantId: 1_758_378, secretKey: "s3cr3t"))
        let callbacks = CallbackHandler(amanpay: amanpay, firstpay: nil, publisher: sink, metrics: PayBridgeMetrics(),
                                        logger: Logger(label: "paybridge.test"))
        let app = Application(router: CallbackHTTPServer.makeRouter(callbacks: callbacks))
        do {
            try await app.test(.router, test)
        } catch {
            try await amanpay.shutdown()
            throw error
        }
        try await amanpay.shutdown()
    }

    @Test func aCallbackWithAGoodSignatureIsStoredAsANotificationAndAnswered200WithItsId() async throws {
        let sink = RecordingOutcomeSink()
        let callback = try Self.successCallback()
        try await withCallbackRouter(sink: sink) { client in
            try await client.execute(
                uri: "/callbacks/amanpay", method: .post, headers: [.authorization: callback.authorization],
                body: ByteBuffer(string: callback.body)
            ) { response in
                #expect(response.status == .ok)
                let answer = try JSONValue.parse(String(buffer: response.body))
                let notification = try #require(sink.notifications.first)
                #expect(answer == ["notificationId": .string(notification.id)])
                // Stored byte for byte with its signature, for a worker to verify again and confirm; no event yet.
                #expect(notification.body == Array(callback.body.utf8))
                #expect(notification.signature == callback.authorization)
                #expect(notification.provider == .amanpay && notification.queue == "payments.amanpay")
                let headers = notification.properties.headers
                #expect(headers?["x-paybridge-notification"]?.stringValue == "callback")
                #expect(headers?["x-paybridge-original-routing-key"]?.stringValue == "amanpay.callback")
                #expect(notification.properties.messageId == notification.id)
                #expect(notification.properties.persistent == true)
            }
        }
        #expect(sink.events.isEmpty)
        #expect(sink.published.count == 1)
    }

    @Test func aCallbackWithABadSignatureIsAnswered401AndNothingIsPublished() async throws {
        let sink = RecordingOutcomeSink()
        let callback = try Self.successCallback()
        try await withCallbackRouter(sink: sink) { client in
            try await client.execute(
                uri: "/callbacks/amanpay", method: .post,
                headers: [.authorization: String(callback.authorization.reversed())],
                body: ByteBuffer(string: callback.body)
            ) { response in
                #expect(response.status == .unauthorized)
                #expect(String(buffer: response.body) == #"{"error":"INVALID_CALLBACK_SIGNATURE"}"#)
            }
            let tampered = callback.body.replacingOccurrences(of: "250.51", with: "2500.51")
            try await client.execute(
                uri: "/callbacks/amanpay", method: .post, headers: [.authorization: callback.authorization],
                body: ByteBuffer(string: tampered)
            ) { response in
                #expect(response.status == .unauthorized)
            }
        }
        #expect(sink.published.isEmpty)
    }

    @Test func aVerifiedCallbackTheBrokerDoesNotConfirmIsAnswered503SoTheProviderRetries() async throws {
        let sink = RecordingOutcomeSink(refusing: .max)
        let callback = try Self.successCallback()
        try await withCallbackRouter(sink: sink) { client in
            try await client.execute(
                uri: "/callbacks/amanpay", method: .post, headers: [.authorization: callback.authorization],
                body: ByteBuffer(string: callback.body)
            ) { response in
                #expect(response.status == .serviceUnavailable)
            }
        }
        #expect(sink.refusals == 1)
    }

    @Test func aProviderThatIsNotConfiguredIsAnswered400AndOtherPathsAreNotFound() async throws {
        let sink = RecordingOutcomeSink()
        try await withCallbackRouter(sink: sink) { client in
            try await client.execute(uri: "/callbacks/firstpay", method: .post, body: ByteBuffer(string: "{}")) {
                response in
                #expect(response.status == .badRequest)
            }
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .notFound)
            }
        }
        #expect(sink.published.isEmpty)
    }
}
