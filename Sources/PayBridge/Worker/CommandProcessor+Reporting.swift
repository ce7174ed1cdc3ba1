import Logging
import PayBridgeContract
import PayBridgeRules
import PaymentVocabulary
import Tracing

private typealias Key = PayBridgeLoggingKeys

extension CommandProcessor {
    /// Logs what the rules decided, before it is carried out. `execution`: the provider call it followed, if any.
    func report(_ plan: DeliveryPlan, _ log: CommandLog, execution: DeliveryExecution? = nil) {
        let failure: String = switch execution {
        case .command(_, .invalidData(let error)): "\(error)"
        default: execution?.providerError.map { "\($0)" } ?? "-"
        }
        switch plan.verdict {
        case .rejected(let code):
            log.warning("invalid command dead-lettered", [Key.reason: "\(code)"])
        case .answered(let status):
            log.debug("command executed", [Key.status: "\(status.rawValue)"])
        case .retryScheduled(let code):
            let next = if case .retry(let retry) = plan.republish { retry.nextAttempt } else { 0 }
            log.info("transient failure; broker-side retry scheduled", [
                Key.errorCode: "\(code)", Key.nextAttempt: "\(next)",
            ])
        case .failed(let code, let errorClass):
            if errorClass == .retriesExhausted || errorClass == .providerError {
                log.error("retries exhausted; dead-lettering", [Key.errorCode: "\(code)"])
            }
            log.warning("command failed", [Key.errorCode: "\(code)", Key.errorClass: "\(errorClass)"])
        case .pausedForConfiguration(let code) where code == .invalidResponseSignature:
            log.error("responses to several commands in a row fail their signature check; pausing this provider",
                      [Key.error: "\(failure)"])
        case .pausedForConfiguration:
            log.error("provider rejected PayBridge's configuration; pausing this provider", [Key.error: "\(failure)"])
        case .pausedForOpenCircuit:
            log.warning("circuit open; pausing this provider", [Key.error: "\(failure)"])
        case .deferred(let account):
            var queue = "-"
            if case .retry(let retry) = plan.republish { queue = retry.queue }
            log.info("merchant account paused; deferred into a delay queue",
                     [Key.account: "\(account)", Key.queue: "\(queue)"])
        case .callbackPublished(let status):
            log.debug("callback confirmed", [Key.status: "\(status.rawValue)"])
        case .callbackNotPublished(let code, let errorClass):
            log.warning("callback not confirmed; dead-lettered, nothing published",
                        [Key.errorCode: "\(code)", Key.errorClass: "\(errorClass)"])
        case .duplicateCallback(let notificationId):
            // A replay, or the provider sending again while the first was being confirmed: the first one's read
            // (and its retries, if it failed) speaks for this one.
            log.info("an identical callback was read moments ago; not reading it again",
                     [Key.notificationId: "\(notificationId)"])
        case .reconciled(let result):
            reportCheck(result, plan, log, readError: execution?.providerError)
        case .queryAnswered(let methods):
            log.debug("payment-methods query answered", [Key.methods: "\(methods)"])
        case .queryFailed(let code, let errorClass):
            let how = plan.reply == nil ? "dead-lettered: it named no direct reply-to" : "answered with the error"
            log.warning("payment-methods query failed; \(how)", [Key.errorCode: "\(code)", Key.errorClass: "\(errorClass)"])
        }
        if case .notification(let notification, .success(.confirmed(let claim, let read, _))) = execution,
           Self.disagree(claim, read) {
            log.warning("callback disagrees with the provider's status read; publishing the read", [
                Key.callbackStatus: "\(claim.providerStatus ?? "-")",
                Key.readStatus: "\(read.providerStatus ?? "-")",
                Key.notificationId: "\(notification.id)",
            ])
        }
        for message in plan.events {
            guard let mismatch = message.outcome.amountMismatch else { continue }
            // Commands, reconciliation checks and callbacks: each names what it expected (`command*`, `callback*`).
            log.warning("the provider's amount or currency differs from what was expected; published flagged", [
                Key.eventId: "\(message.event.id)",
                Key.amountMismatch: "\(mismatch.jsonValue.compactText)",
            ])
        }
        if let next = plan.nextCheck {
            log.debug("reconciliation check scheduled", [Key.check: "\(next.check.step)", Key.queue: "\(next.queue)"])
        }
    }

    /// Logs what a check came to: `unresolved` as an error (someone has to look), a change at info.
    private func reportCheck(_ result: DeliveryPlan.ReconcileResult, _ plan: DeliveryPlan, _ log: CommandLog,
                             readError: ProviderError?) {
        let last = plan.events.last?.outcome
        let metadata: Logger.Metadata = [
            Key.status: "\(last?.status.rawValue ?? "-")",
            Key.providerStatus: "\(last?.providerStatus ?? "-")",
        ]
        switch result {
        case .changed: log.info("reconciliation check: the payment's status changed; published", metadata)
        case .unchanged: log.debug("reconciliation check: still open")
        case .readFailed: log.warning("reconciliation check: the status read failed; the next check follows",
                                      [Key.error: "\(readError.map { "\($0)" } ?? "-")"])
        case .unresolved:
            log.error("payment still open after its last reconciliation check; published payment.unresolved",
                      metadata)
        case .invalid: log.warning("a reconciliation check PayBridge did not write; dead-lettered")
        case .off: log.info("reconciliation is off (PAYBRIDGE_RECONCILE_SCHEDULE); check dropped unread")
        }
    }

    /// Whether the callback claimed another status or payment than the provider's read says (a forgery with a moved
    /// field boundary, a stale or replayed callback, or a correction since).
    static func disagree(_ claim: ProviderResult, _ read: ProviderResult) -> Bool {
        claim.providerStatus != read.providerStatus
            || (claim.providerPaymentId != nil && claim.providerPaymentId != read.providerPaymentId)
    }

    /// The span ends as an error when the command failed or was dead-lettered (the reason as its message).
    static func setStatus(of span: any Span, _ plan: DeliveryPlan) {
        switch plan.verdict {
        case .rejected(let code), .failed(let code, _), .callbackNotPublished(let code, _), .queryFailed(let code, _):
            span.setStatus(SpanStatus(code: .error, message: code))
        default:
            if case .deadLetter(let deadLetter) = plan.republish {
                span.setStatus(SpanStatus(code: .error, message: deadLetter.reason.rawValue))
            }
        }
    }

    /// Counts a plan once it has been carried out; `account` `nil` when the delivery named none that could be read.
    /// An account this processor does not have is counted as `unknown` (``ProviderMetricHandles/label(_:)``).
    func count(_ plan: DeliveryPlan, account: MerchantAccount?) {
        let labelled = account ?? .default
        switch plan.verdict {
        case .rejected: metrics.command(outcome: "dead_letter", account: account)
        case .answered: metrics.command(outcome: "response", account: account)
        case .retryScheduled:
            metrics.retry(account: labelled)
            metrics.command(outcome: "retry", account: account)
        case .failed: metrics.command(outcome: "failed", account: account)
        case .pausedForConfiguration, .pausedForOpenCircuit: break
        case .deferred: metrics.command(outcome: "deferred", account: account)
        case .callbackPublished:
            metrics.callback(result: "confirmed", account: labelled)
        case .callbackNotPublished(let code, _):
            metrics.callback(result: code == "CALLBACK_PAYMENT_UNKNOWN" ? "unknown_payment" : "not_confirmed",
                             account: account)
        case .duplicateCallback:
            metrics.command(outcome: "duplicate_callback", account: account)
        case .reconciled(let result):
            metrics.reconcileCheck(result: result.rawValue, account: labelled)
        case .queryAnswered: metrics.command(outcome: "query_answered", account: account)
        case .queryFailed: metrics.command(outcome: "query_failed", account: account)
        }
        if case .deadLetter(let deadLetter) = plan.republish {
            metrics.deadLetter(reason: deadLetter.reason.rawValue, account: account)
        }
    }
}
