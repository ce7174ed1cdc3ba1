import NIOCore
import PaymentVocabulary
@testable import ProviderCore
import Testing

/// The provider request as written by the NIO transport (``NIOHTTPRequestBytes``): request line, `Host`,
/// `Content-Type`, the caller's headers, the real `Content-Length`, the body as given; a header that would inject a
/// line, or a name that is not a token, fails before anything is sent.
@Suite("NIO HTTP request bytes")
struct NIOHTTPRequestBytesTests {
    static func text(_ buffer: ByteBuffer) -> String { String(buffer: buffer) }

    @Test func aRequestIsItsRequestLineHeadersContentLengthAndBodyAsGiven() throws {
        var bytes = NIOHTTPRequestBytes(target: "/v1/payouts?x=1", host: "gateway.test:8443", bodyBytes: 12)
        bytes.add(name: "X-Signature", value: "ab12")
        bytes.add(name: "content-length", value: "999")
        bytes.add(name: "Idempotency-Key", value: "order-7 ✓")
        let body = #"{"amount":"250.50"}"#
        #expect(Self.text(try bytes.finish(body: body)) == """
            POST /v1/payouts?x=1 HTTP/1.1\r
            Host: gateway.test:8443\r
            Content-Type: application/json\r
            X-Signature: ab12\r
            Idempotency-Key: order-7 ✓\r
            Content-Length: \(body.utf8.count)\r
            \r
            \(body)
            """)
    }

    @Test(arguments: ["a\r\nX-Injected: 1", "a\nb", "a\rb", "a\u{0}b"])
    func aHeaderValueWithCROrLFOrNULIsRefused(value: String) {
        var bytes = NIOHTTPRequestBytes(target: "/", host: "gateway.test", bodyBytes: 2)
        bytes.add(name: "X-Reference", value: value)
        #expect(throws: NIOHTTPRequestBytes.InvalidHeader(name: "X-Reference")) { try bytes.finish(body: "{}") }
    }

    @Test(arguments: ["", "X Reference", "X-Ref:", "X-Ref\r\n", "Ünïcode"])
    func aHeaderNameThatIsNotATokenIsRefused(name: String) {
        var bytes = NIOHTTPRequestBytes(target: "/", host: "gateway.test", bodyBytes: 2)
        bytes.add(name: name, value: "1")
        #expect(throws: NIOHTTPRequestBytes.InvalidHeader(name: nil)) { try bytes.finish(body: "{}") }
    }

    @Test func aRequestWithAnInjectedHeaderFailsAsNotSentAndReachesNoServer() async throws {
        try await TestHTTPServer.with(answer: { .respond(status: 200) }) { server throws in
            let transport = NIOHTTPTransport()
            let error = await #expect(throws: ProviderError.self) {
                try await transport.post(
                    url: server.url, headers: [("X-Reference", "r1\r\nX-Amount: 1")], body: "{}", provider: .amanpay,
                    operation: "payout", logger: quietLogger)
            }
            #expect(error?.code == .connectionError)
            #expect(error?.mayHaveReachedProvider == false)
            #expect(error?.message.contains("the value of header X-Reference contains CR, LF or NUL") == true)
            #expect(server.connections == 0)
            try await transport.shutdown()
        }
    }
}
