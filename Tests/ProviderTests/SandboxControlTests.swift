import Amanpay
import AsyncHTTPClient
import FirstPay
import NIOCore
import NIOHTTP1
import PaymentVocabulary
import ProviderCore
import ProviderSandbox
import StrictJSON
import Testing

/// The control API over HTTP, as the adapter's end-to-end tests and the demo use it.
@Suite("Sandbox control API")
struct SandboxControlTests {
    func call(_ method: HTTPMethod, _ url: String, _ body: String? = nil) async throws -> (Int, JSONValue?) {
        var request = HTTPClientRequest(url: url)
        request.method = method
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(5))
        let bytes = try await response.body.collect(upTo: 1 << 20)
        return (Int(response.status.code), try? JSONValue.parse(Array(bytes.readableBytesView)))
    }

    @Test func faultsRequestsOutcomesAndCallbacksOverHTTP() async throws {
        try await CallbackReceiver.with { receiver in
            try await withSandbox { sandbox in
                let base = sandbox.baseURL + "/_sandbox"
                #expect(try await call(.GET, base + "/health").0 == 200)
                #expect(
                    try await call(.POST, base + "/callback-urls", #"{"amanpay":"\#(receiver.url)","firstpay":"\#(receiver.url)"}"#).0
                        == 200)
                #expect(
                    try await call(
                        .POST, base + "/faults",
                        #"{"provider":"amanpay","paymentId":"c-1","outcome":"CANCELLED"}"#
                    ).0 == 200)
                #expect(try await call(.POST, base + "/faults", #"{"times":"x"}"#).0 == 400)
                try await withAmanpay(sandbox) { client in
                    _ = try await client.purchase(purchase("c-1"))
                    let cb = await receiver.next(1)[0]
                    let r = try client.verifyCallback(body: cb.body, authorization: cb.authorization)
                    #expect(r.status == .cancelled)
                    #expect(r.isFinal)
                    _ = try await client.payout(
                        AmanpayPayoutRequest(
                            paymentId: "po-1", amount: DecimalAmount("5.5")!, currency: "BDT", customerEmail: "c@example.com",
                            customerName: "A B", paymentMethod: .bkash, recipientType: "bank_account"))
                    #expect(try await call(.POST, base + "/amanpay/payout/po-1/complete", #"{"status":"SUCCESS"}"#).0 == 200)
                    let done = await receiver.next(1)[0]
                    let payout = try client.verifyCallback(body: done.body, authorization: done.authorization)
                    #expect(payout.status == .succeeded)
                    #expect(payout.amount?.text == "5.50")
                    // Final statuses never change (amanpay.md §4).
                    #expect(try await call(.POST, base + "/amanpay/payout/po-1/complete", #"{"status":"FAILED"}"#).0 == 409)
                    #expect(try await call(.POST, base + "/amanpay/payout/po-1/callback").0 == 200)
                    let again = await receiver.next(1)[0]
                    #expect(again.body == done.body)
                    // A callback that never comes: the status moves, only a status read tells.
                    _ = try await client.payout(
                        AmanpayPayoutRequest(
                            paymentId: "po-2", amount: DecimalAmount("5.5")!, currency: "BDT", customerEmail: "c@example.com",
                            customerName: "A B", paymentMethod: .bkash, recipientType: "bank_account"))
                    #expect(try await call(.POST, base + "/amanpay/payout/po-2/complete",
                                           #"{"status":"SUCCESS","notify":false}"#).0 == 200)
                    #expect(try await client.payoutStatus(paymentId: "po-2").status == .succeeded)
                    // An earlier callback replayed byte for byte (index 1: po-1's SUCCESS).
                    #expect(try await call(.POST, base + "/callbacks/1/replay").0 == 200)
                    let replayed = await receiver.next(1)[0]
                    #expect(replayed.body == done.body && replayed.authorization == done.authorization)
                    #expect(try await call(.POST, base + "/callbacks/99/replay").0 == 404)
                }
                try await withFirstPay(sandbox) { client in
                    _ = try await client.payIn(payment("fp-1"))
                    #expect(try await call(.POST, base + "/firstpay/fp-1/complete", #"{"status":"SUCCESS"}"#).0 == 200)
                    let s = try client.verifyPostback(body: await receiver.next(1)[0].body)
                    #expect(s.status == .succeeded)
                    #expect(try await call(.POST, base + "/firstpay/fp-1/flip").0 == 200)
                    let f = try client.verifyPostback(body: await receiver.next(1)[0].body)
                    #expect(f.status == .failed)
                    #expect(try await call(.POST, base + "/firstpay/fp-1/postback").0 == 200)
                    let d = try client.verifyPostback(body: await receiver.next(1)[0].body)
                    #expect(d.providerStatus == "FAILED")
                }
                let (status, requests) = try await call(.GET, base + "/requests")
                #expect(status == 200)
                let ops = requests?.arrayElements?.compactMap { $0["operation"]?.stringValue }
                #expect(ops == ["purchase", "payout", "payout", "status", "pay_in"])
                let (_, callbacks) = try await call(.GET, base + "/callbacks")
                #expect(callbacks?.arrayElements?.count == 7, "po-2's completion sent none")
                let (_, payments) = try await call(.GET, base + "/payments")
                #expect(payments?.arrayElements?.count == 4)
                #expect(try await call(.DELETE, base + "/faults").0 == 200)
                #expect(try await call(.DELETE, base + "/requests").0 == 200)
                #expect(sandbox.receivedRequests().isEmpty)
            }
        }
    }
}
