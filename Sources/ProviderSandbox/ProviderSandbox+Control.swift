import Foundation
import Hummingbird
import NIOCore
import ProviderCore
import StrictJSON

/// The control API for tests and the demo, under `/_sandbox`:
///
/// | Route | Effect |
/// |---|---|
/// | `GET /_sandbox/health` | `{"ok":true}` |
/// | `GET /_sandbox/requests` | provider requests received (provider, operation, path, paymentId, signatureValid, body) |
/// | `DELETE /_sandbox/requests` | forget received requests and deliveries |
/// | `GET /_sandbox/callbacks` | callback/postback deliveries (url, body, attempts, delivered) |
/// | `POST /_sandbox/callbacks/{index}/replay` | send delivery `index` (0-based, as listed) again, byte for byte |
/// | `POST /_sandbox/faults` | add a ``SandboxFault`` (JSON) |
/// | `DELETE /_sandbox/faults` | remove all faults |
/// | `POST /_sandbox/answers/{paymentId}/release` | send the held create answer of a ``SandboxFault/answerAfterCallback`` payment |
/// | `POST /_sandbox/callback-urls` | `{"amanpay": url, "firstpay": url}` default callback/postback targets |
/// | `POST /_sandbox/amanpay/{purchase\|payout}/{paymentId}/complete` | `{"status":"SUCCESS"\|"FAILED"\|"CANCELLED","errorCode":…,"notify":true}` + callback (`"notify": false`: none, a callback that never comes) |
/// | `POST /_sandbox/amanpay/{purchase\|payout}/{paymentId}/callback` | re-send the current callback |
/// | `POST /_sandbox/firstpay/{merchantPaymentId}/complete` | `{"status":"SUCCESS"\|"FAILED","failedCode":…,"notify":true}` + postback (`"notify": false`: none) |
/// | `POST /_sandbox/firstpay/{merchantPaymentId}/flip` | SUCCESS ↔ FAILED + postback |
/// | `POST /_sandbox/firstpay/{merchantPaymentId}/postback` | re-send the current postback |
/// | `GET /_sandbox/payments` | payments held |
extension ProviderSandbox {
    func addControlRoutes(to router: Router<BasicRequestContext>) {
        let control = router.group("_sandbox")
        control.get("health") { _, _ in self.jsonResponse(200, "{\"ok\":true}") }
        control.get("requests") { _, _ in
            let items = self.receivedRequests().map { r -> JSONValue in
                var w = JSONObjectWriter()
                w.string("provider", r.provider)
                w.string("operation", r.operation)
                w.string("path", r.path)
                w.value("paymentId", r.paymentId.map { .string($0) } ?? .null)
                w.value("signatureValid", .bool(r.signatureValid))
                w.string("body", r.body)
                return w.object
            }
            return self.jsonResponse(200, JSONValue.array(items).compactText)
        }
        control.delete("requests") { _, _ in
            self.clearRecords()
            return self.jsonResponse(200, "{\"ok\":true}")
        }
        control.get("callbacks") { _, _ in
            let items = self.callbackDeliveries().map { d -> JSONValue in
                var w = JSONObjectWriter()
                w.string("provider", d.provider)
                w.string("url", d.url)
                w.string("body", d.body)
                w.value("attempts", .array(d.attempts.map { .number(JSONNumber($0)) }))
                w.value("delivered", .bool(d.delivered))
                return w.object
            }
            return self.jsonResponse(200, JSONValue.array(items).compactText)
        }
        control.post("callbacks/:index/replay") { _, context in
            let ok = Int(context.parameters.get("index") ?? "").map { self.replayCallback(at: $0) } ?? false
            return self.jsonResponse(ok ? 200 : 404, ok ? "{\"ok\":true}" : "{\"error\":\"no such delivery\"}")
        }
        control.post("faults") { request, _ in
            var request = request
            let buffer = try await request.collectBody(upTo: 1 << 16)
            guard let fault = try? JSONDecoder().decode(SandboxFault.self, from: Data(buffer.readableBytesView)) else {
                return self.jsonResponse(400, "{\"error\":\"body is not a SandboxFault\"}")
            }
            self.addFault(fault)
            return self.jsonResponse(200, "{\"ok\":true}")
        }
        control.post("answers/:paymentId/release") { _, context in
            self.releaseAnswer(paymentId: context.parameters.get("paymentId") ?? "")
            return self.jsonResponse(200, "{\"ok\":true}")
        }
        control.delete("faults") { _, _ in
            self.clearFaults()
            return self.jsonResponse(200, "{\"ok\":true}")
        }
        control.post("callback-urls") { request, _ in
            let (json, _) = try await self.readJSON(request)
            self.setCallbackURLs(amanpay: json?["amanpay"]?.stringValue, firstpay: json?["firstpay"]?.stringValue)
            return self.jsonResponse(200, "{\"ok\":true}")
        }
        control.post("amanpay/:type/:paymentId/complete") { request, context in
            let (json, _) = try await self.readJSON(request)
            let ok = self.completeAmanpay(
                paymentId: context.parameters.get("paymentId") ?? "", type: context.parameters.get("type") ?? "purchase",
                status: json?["status"]?.stringValue ?? "SUCCESS", errorCode: json?["errorCode"]?.stringValue,
                notify: json?["notify"]?.boolValue ?? true)
            return self.jsonResponse(ok ? 200 : 409, ok ? "{\"ok\":true}" : "{\"error\":\"unknown or already final\"}")
        }
        control.post("amanpay/:type/:paymentId/callback") { _, context in
            let ok = self.resendAmanpayCallback(
                paymentId: context.parameters.get("paymentId") ?? "", type: context.parameters.get("type") ?? "purchase")
            return self.jsonResponse(ok ? 200 : 404, ok ? "{\"ok\":true}" : "{\"error\":\"unknown payment\"}")
        }
        control.post("firstpay/:id/complete") { request, context in
            let (json, _) = try await self.readJSON(request)
            let ok = self.completeFirstPay(
                merchantPaymentId: context.parameters.get("id") ?? "", status: json?["status"]?.stringValue ?? "SUCCESS",
                failedCode: json?["failedCode"]?.stringValue, notify: json?["notify"]?.boolValue ?? true)
            return self.jsonResponse(ok ? 200 : 404, ok ? "{\"ok\":true}" : "{\"error\":\"unknown payment\"}")
        }
        control.post("firstpay/:id/flip") { _, context in
            let ok = self.flipFirstPay(merchantPaymentId: context.parameters.get("id") ?? "")
            return self.jsonResponse(ok ? 200 : 409, ok ? "{\"ok\":true}" : "{\"error\":\"unknown or not final\"}")
        }
        control.post("firstpay/:id/postback") { _, context in
            let ok = self.resendFirstPayPostback(merchantPaymentId: context.parameters.get("id") ?? "")
            return self.jsonResponse(ok ? 200 : 404, ok ? "{\"ok\":true}" : "{\"error\":\"unknown payment\"}")
        }
        control.get("payments") { _, _ in
            let (amanpay, firstpay) = self.state.withLock { s in
                (Array(s.amanpayPurchases.values) + Array(s.amanpayPayouts.values), Array(s.firstpayById.values))
            }
            var items: [JSONValue] = amanpay.map { p in
                var o = p.object()
                if case .object(let m) = o {
                    o = .object(JSONObject([JSONMember("provider", .string("amanpay"))] + m.members))
                }
                return o
            }
            items += firstpay.map { p in
                .object(JSONObject([JSONMember("provider", .string("firstpay"))] + p.object(forPostback: false)))
            }
            return self.jsonResponse(200, JSONValue.array(items).compactText)
        }
    }
}
