import AMQP
import Amanpay
import AsyncHTTPClient
import Foundation
import NIOCore
@testable import PayBridge
import PayBridgeContract
import ProviderCore
import ProviderSandbox
import StrictJSON
import Testing

/// Merchant accounts end to end: two Amanpay merchant accounts of one deployment on the real broker and the sandbox
/// (which serves both merchants), one with a wrong key. The good account's commands and callbacks all get their
/// outcomes, carrying the account, while the bad account is paused (its commands deferred, none burned, the queue
/// never paused); once the key is fixed, the bad account's commands are all executed.
@Suite(.timeLimit(.minutes(3))) struct MerchantAccountsEndToEndTests {
    static let bd = MerchantAccount("bd")!
    static let pk = MerchantAccount("pk")!
    static let bdMerchant = 2_000_001
    static let pkMerchant = 2_000_002

    /// The world's configuration with the accounts `bd` and `pk` (pk's secret as given) beside `default`.
    static func configuration(_ world: EndToEnd, pkSecret: Secret) throws -> PayBridgeConfiguration {
        var configuration = try world.configuration()
        let template = try #require(configuration.amanpay)
        var bd = template
        bd.merchantId = bdMerchant
        bd.secretKey = "bd-secret"
        var pk = template
        pk.merchantId = pkMerchant
        pk.secretKey = pkSecret
        configuration.amanpayAccounts = [Self.bd: bd, Self.pk: pk]
        return configuration
    }

    static func payout(_ paymentId: String, account: String, notifyUrl: String? = nil) -> JSONObject {
        var data = payoutData(paymentId)
        data["account"] = .string(account)
        if let notifyUrl { data["notifyUrl"] = .string(notifyUrl) }
        return data
    }

    @Test func twoAccountsWorkSideBySideWhileTheOtherAccountsKeyIsWrong() async throws {
        try await EndToEnd.run(configure: {
            $0.amanpayMerchants = [Self.bdMerchant: "bd-secret", Self.pkMerchant: "pk-secret"]
            $0.autoCompleteOutcome = "SUCCESS"
            $0.callbackMaxAttempts = 3  // pk's callbacks (default URL, after the fix) are not this test's subject
        }) { world in
            let tag = UUID().uuidString.prefix(6).lowercased()
            let pkIds = (1...5).map { "cmd-pk-\(tag)-\($0)" }
            let bdIds = (1...20).map { "cmd-bd-\(tag)-\($0)" }
            let wrongKey = try Self.configuration(world, pkSecret: "not-pk-secret")
            let metrics = try await world.withPayBridge(wrongKey) { runtime in
                let port = await runtime.httpPort()
                // pk's commands first, so its refused key is met while bd's are queued behind them.
                for (n, id) in pkIds.enumerated() {
                    _ = try await world.send(.amanpayPayout, id: id, data: Self.payout("p-pk-\(tag)-\(n)", account: "pk"))
                }
                for (n, id) in bdIds.enumerated() {
                    _ = try await world.send(.amanpayPayout, id: id, data: Self.payout(
                        "p-bd-\(tag)-\(n)", account: "bd",
                        notifyUrl: "http://127.0.0.1:\(port)/callbacks/amanpay/bd"))
                }
                let unknown = try await world.send(.amanpayPayout, data: Self.payout("p-x-\(tag)", account: "zz"))

                // Every bd command gets its response, and (sandbox auto-completes, callback on bd's path, verified
                // with bd's key, confirmed by a status read as bd) its callback event.
                try await world.events.wait(timeout: .seconds(60)) { events in
                    let responses = Set(events.filter { $0.event.type == OutcomeEvents.responseType }
                        .compactMap(\.commandId))
                    let callbacks = events.filter {
                        $0.event.type == OutcomeEvents.callbackType && $0.data["account"]?.stringValue == "bd"
                    }
                    return Set(bdIds).isSubset(of: responses) && callbacks.count >= bdIds.count
                }
                let failed = try await world.events.first(type: OutcomeEvents.commandFailedType, commandId: unknown)
                #expect(failed.data["error"]?["code"]?.stringValue == "UNKNOWN_ACCOUNT")
                #expect(failed.data["account"]?.stringValue == "zz")

                for event in world.events.all {
                    expectValid(event)
                    #expect(!pkIds.contains(event.commandId ?? ""), "no outcome for the paused account's commands")
                }
                let bdEvents = world.events.all.filter { bdIds.contains($0.commandId ?? "") }
                #expect(bdEvents.allSatisfy { $0.data["account"]?.stringValue == "bd" })
                let callbacks = world.events.all.filter { $0.event.type == OutcomeEvents.callbackType }
                #expect(callbacks.allSatisfy { $0.data["status"]?.stringValue == "succeeded" })

                // A callback signed with bd's key is refused on pk's path; an account that does not exist is 404.
                let signed = #"{"transactionId":"1","paymentID":"p-bd-\#(tag)-0","status":"SUCCESS","amount":1000000.00,"currency":"BDT","paymentType":"payout"}"#
                let bdSignature = AmanpaySignature.signResponse(try JSONValue.parse(signed), secret: "bd-secret")
                #expect(try await Self.post(port, "/callbacks/amanpay/pk", signed, bdSignature) == 401)
                #expect(try await Self.post(port, "/callbacks/amanpay/zz", signed, bdSignature) == 404)
                #expect(try await Self.post(port, "/callbacks/amanpay/NOT-AN-ACCOUNT", signed, bdSignature) == 404)

                // The bad key paused pk only: the queue was never paused, /readyz stays ready.
                #expect(runtime.readiness.check().ready, "\(runtime.readiness.check().reasons)")
                return runtime.metrics
            }
            // Drained: every pk command was deferred (none burned, none dead-lettered), the queue never put back.
            let text = metrics.exposition()
            #expect(Self.counter(text, #"paybridge_commands_total{provider="amanpay",account="pk",outcome="deferred"}"#) >= 5)
            #expect(Self.counter(text, #"paybridge_commands_total{provider="amanpay",account="bd",outcome="response"}"#) == 20)
            #expect(Self.counter(text, #"paybridge_commands_total{provider="amanpay",outcome="put_back"}"#) == 0)
            #expect(Self.counter(text, #"paybridge_dead_letters_total{provider="amanpay",account="pk",reason="invalid_command"}"#) == 0)
            let pkRequests = world.sandbox.receivedRequests().filter { $0.body.contains("\(Self.pkMerchant)") }
            #expect(!pkRequests.isEmpty && pkRequests.allSatisfy { !$0.signatureValid },
                    "pk's requests carried the wrong key")

            // pk's key fixed (a new deployment): every deferred pk command comes back and is executed once.
            let fixed = try Self.configuration(world, pkSecret: "pk-secret")
            try await world.withPayBridge(fixed) { _ in
                try await world.events.wait(timeout: .seconds(60)) { events in
                    Set(pkIds).isSubset(of: Set(events.filter { $0.event.type == OutcomeEvents.responseType }
                        .compactMap(\.commandId)))
                }
                let pkEvents = world.events.all.filter { pkIds.contains($0.commandId ?? "") }
                #expect(pkEvents.count == pkIds.count)
                #expect(pkEvents.allSatisfy { $0.data["account"]?.stringValue == "pk" })
            }
        }
    }

    static func post(_ port: Int, _ path: String, _ body: String, _ authorization: String) async throws -> Int {
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        defer { _ = http.shutdown() }
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Authorization", value: authorization)
        request.body = .bytes(ByteBuffer(string: body))
        return Int(try await http.execute(request, timeout: .seconds(10)).status.code)
    }

    /// A counter's value in a Prometheus exposition; 0 when the series is absent.
    static func counter(_ text: String, _ series: String) -> Double {
        for line in text.split(separator: "\n") where line.hasPrefix(series + " ") {
            return Double(line.dropFirst(series.count + 1)) ?? -1
        }
        return 0
    }
}
