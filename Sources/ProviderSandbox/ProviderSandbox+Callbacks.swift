import Amanpay
import AsyncHTTPClient
import FirstPay
import Foundation
import Logging
import NIOCore
import ProviderCore
import StrictJSON

/// Background work of the sandbox.
enum SandboxJob: Sendable {
    case deliver(provider: String, url: String, body: String, headers: [(String, String)], index: Int)
    case complete(provider: String, type: String, paymentId: String, after: Duration)
}

extension ProviderSandbox {
    /// Consumes jobs until the task is cancelled.
    func runJobs(client: HTTPClient) async {
        await withDiscardingTaskGroup { group in
            for await job in jobs {
                group.addTask { await self.perform(job, client: client) }
            }
        }
    }

    private func perform(_ job: SandboxJob, client: HTTPClient) async {
        switch job {
        case .complete(let provider, let type, let paymentId, let after):
            if after > .zero {
                do { try await Task.sleep(for: after) } catch { return }
            }
            applyPlannedOutcome(provider: provider, type: type, paymentId: paymentId)
        case .deliver(let provider, let url, let body, let headers, let index):
            await deliver(provider: provider, url: url, body: body, headers: headers, index: index, client: client)
        }
    }

    /// Retries until the target answers 2xx (Amanpay, A7) or 200 (FirstPay, F7), or attempts run out.
    private func deliver(
        provider: String, url: String, body: String, headers: [(String, String)], index: Int, client: HTTPClient
    ) async {
        var delay = configuration.callbackRetryDelay
        var attempt = 0
        while !Task.isCancelled {
            attempt += 1
            var request = HTTPClientRequest(url: url)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            for (n, v) in headers { request.headers.add(name: n, value: v) }
            request.body = .bytes(ByteBuffer(string: body))
            var status = 0
            do {
                let timeout = TimeAmount.nanoseconds(Int64(configuration.callbackTimeout.components.seconds) * 1_000_000_000
                    + configuration.callbackTimeout.components.attoseconds / 1_000_000_000)
                let response = try await client.execute(request, timeout: timeout)
                _ = try? await response.body.collect(upTo: 1 << 20)
                status = Int(response.status.code)
            } catch {
                status = 0
            }
            let delivered = provider == "firstpay" ? status == 200 : (200..<300).contains(status)
            state.withLock { s in
                if index < s.deliveries.count {
                    s.deliveries[index].attempts.append(status)
                    s.deliveries[index].delivered = delivered
                }
            }
            if delivered { return }
            if let max = configuration.callbackMaxAttempts, attempt >= max { return }
            do { try await Task.sleep(for: delay) } catch { return }
            delay = min(delay * 2, configuration.callbackMaxRetryDelay)
        }
    }

    /// Queues a signed Amanpay callback (A2, A7) to the payment's `notifyUrl` or the default URL.
    func sendAmanpayCallback(_ body: JSONValue, payment: SandboxAmanpayPayment) {
        let text = body.compactText
        let signature = AmanpaySignature.signResponse(
            body, fields: configuration.amanpayResponseSignatureFields, secret: amanpaySecret(payment.merchantId))
        var headers = [("Authorization", signature)]
        if let traceparent = payment.traceparent { headers.append(("traceparent", traceparent)) }
        enqueueDelivery(provider: "amanpay", explicitURL: payment.notifyUrl, body: text, headers: headers)
    }

    /// Queues a signed FirstPay postback (F2, F7) to the payment's `postBackUrl` or the registered URL.
    func sendFirstPayPostback(_ payment: SandboxFirstPayPayment) {
        let publicKey = payment.merchantPublicKey ?? configuration.firstpayPublicKeyPEM
        let signer = firstpayMerchantKeys[publicKey]?.signer ?? postbackSigner
        let members = payment.object(forPostback: true) + [JSONMember("publicKey", .string(publicKey))]
        guard let signed = try? signer.signedBody(members) else {
            logger.error("sandbox could not sign a postback")
            return
        }
        enqueueDelivery(provider: "firstpay", explicitURL: payment.postBackUrl, body: signed.compactText, headers: [])
    }

    /// Sends an earlier callback/postback again, byte for byte, to the URL it went to (a provider's late or
    /// malicious replay: the payment may have moved on since). Amanpay's signature is computed again over the same
    /// body, so it is the one first sent. `false` when there is no delivery with that index.
    @discardableResult
    public func replayCallback(at index: Int) -> Bool {
        guard let earlier = state.withLock({ s in s.deliveries.indices.contains(index) ? s.deliveries[index] : nil })
        else { return false }
        var headers: [(String, String)] = []
        if earlier.provider == "amanpay", let json = try? JSONValue.parse(earlier.body) {
            headers.append(("Authorization", AmanpaySignature.signResponse(
                json, fields: configuration.amanpayResponseSignatureFields, secret: configuration.amanpaySecretKey)))
        }
        enqueueDelivery(provider: earlier.provider, explicitURL: earlier.url, body: earlier.body, headers: headers)
        return true
    }

    private func enqueueDelivery(provider: String, explicitURL: String?, body: String, headers: [(String, String)]) {
        let target: (url: String, index: Int)? = state.withLock { s in
            guard let url = explicitURL ?? (provider == "amanpay" ? s.amanpayCallbackURL : s.firstpayPostbackURL) else {
                return nil
            }
            s.deliveries.append(SandboxCallbackDelivery(provider: provider, url: url, body: body, attempts: [], delivered: false))
            return (url, s.deliveries.count - 1)
        }
        guard let target else {
            logger.debug("sandbox has no callback URL", metadata: ["provider": "\(provider)"])
            return
        }
        jobSink.yield(.deliver(provider: provider, url: target.url, body: body, headers: headers, index: target.index))
    }

    /// Schedules a payment's planned outcome.
    func scheduleOutcome(provider: String, type: String, paymentId: String) {
        jobSink.yield(.complete(provider: provider, type: type, paymentId: paymentId, after: configuration.autoCompleteDelay))
    }

    private func applyPlannedOutcome(provider: String, type: String, paymentId: String) {
        if provider == "amanpay" {
            guard let p = amanpayPayment(paymentId: paymentId, type: type), let outcome = p.plannedOutcome,
                !p.awaitingOTP
            else { return }
            completeAmanpay(paymentId: paymentId, type: type, status: outcome, errorCode: p.plannedErrorCode,
                            notify: p.plannedNotify)
        } else {
            guard let p = firstpayPayment(merchantPaymentId: paymentId), let outcome = p.plannedOutcome, !p.smsRequired
            else { return }
            completeFirstPay(merchantPaymentId: paymentId, status: outcome, failedCode: p.plannedFailedCode,
                             notify: p.plannedNotify)
        }
    }
}

/// ISO-8601 UTC with milliseconds (`2024-05-01T10:00:00.000Z`), as FirstPay's postbacks show.
func iso8601Now() -> String {
    let millis = Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
    let secs = millis / 1000
    let ms = Int(millis % 1000)
    var days = secs / 86400
    let rem = Int(secs % 86400)
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    days += 719_468
    let era = (days >= 0 ? days : days - 146_096) / 146_097
    let doe = days - era * 146_097
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
    var y = yoe + era * 400
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
    let mp = (5 * doy + 2) / 153
    let d = doy - (153 * mp + 2) / 5 + 1
    let m = mp < 10 ? mp + 3 : mp - 9
    if m <= 2 { y += 1 }
    func pad(_ v: Int64, _ n: Int) -> String {
        let s = String(v)
        return String(repeating: "0", count: max(0, n - s.count)) + s
    }
    return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))T\(pad(Int64(rem / 3600), 2)):\(pad(Int64(rem % 3600 / 60), 2)):"
        + "\(pad(Int64(rem % 60), 2)).\(pad(Int64(ms), 3))Z"
}
