import Foundation
import Logging
import PayBridgeContract
import ProviderCore

extension CommandProcessor {
    /// A reconciliation check back from its delay queue: read the payment's status
    /// (``PaymentCommandExecutor/check(_:)``), ask ``DeliveryRules`` what follows (an event when the status changed,
    /// the next check, or `unresolved`), carry the plan out like a command's, then settle the delivery.
    func processCheck(_ delivery: CommandDelivery) async -> DeliveryDisposition {
        var log = CommandLog(logger: logger, provider: provider.rawValue, attempt: delivery.attempt,
                             deliveryTag: delivery.deliveryTag)
        log.operation = "reconcile"
        log.traceId = tracing.current?.traceID
        var account: MerchantAccount?
        do {
            let plan: DeliveryPlan
            var readError: ProviderError?
            switch Result(catching: { () throws(ReconcileCheck.Invalid) in
                try ReconcileCheck(body: delivery.body, provider: provider)
            }) {
            case .failure(let problem):
                plan = rules.plan(invalidCheck: problem, delivery: delivery, at: Date())
            case .success(let check):
                log.commandId = check.commandId
                log.account = check.account.name
                account = check.account
                guard let executor = executors[check.account] else {
                    plan = rules.plan(unknownAccountOf: delivery, account: check.account, notification: false,
                                      at: Date())
                    break
                }
                if let stage = pauses.withLock({ $0.deferral(of: check.account, now: .now) }) {
                    plan = rules.plan(deferring: delivery, account: check.account, stage: stage)
                } else if rules.reconcileSchedule.isOff {
                    log.info("reconciliation is off (PAYBRIDGE_RECONCILE_SCHEDULE); check dropped unread")
                    plan = rules.planCheckWhileOff()
                } else {
                    let result: Result<ProviderResult, ProviderError>
                    do {
                        result = .success(try await executor.check(check))
                    } catch let error as ProviderError {
                        metrics.providerError(error)
                        result = .failure(error)
                    }
                    plan = accountPlan(rules.plan(check: check, result: result, at: Date()), account: check.account,
                                       delivery: delivery)
                    if case .failure(let error) = result { readError = error }
                }
            }
            report(plan, log, readError: readError)
            try await carryOut(plan, log)
            count(plan, account: account)
            return plan.disposition
        } catch {
            // Cancellation (shutting down past the drain timeout): nothing was acked, the check comes back.
            log.error("shutting down before the reconciliation check was finished; requeueing it",
                      ["error": "\(error)"])
            metrics.command(outcome: "requeued", account: account)
            return .requeue
        }
    }


    /// Logs what a check came to: `unresolved` as an error (someone has to look), a change at info.
    func reportCheck(_ result: DeliveryPlan.ReconcileResult, _ plan: DeliveryPlan, _ log: CommandLog,
                     readError: ProviderError? = nil) {
        let data = plan.events.last?.event.data
        let metadata: Logger.Metadata = [
            "paybridge.status": "\(data?["status"]?.stringValue ?? "-")",
            "paybridge.provider_status": "\(data?["providerStatus"]?.stringValue ?? "-")",
        ]
        switch result {
        case .changed: log.info("reconciliation check: the payment's status changed; published", metadata)
        case .unchanged: log.debug("reconciliation check: still open")
        case .readFailed: log.warning("reconciliation check: the status read failed; the next check follows",
                                      ["error": "\(readError.map { "\($0)" } ?? "-")"])
        case .unresolved:
            log.error("payment still open after its last reconciliation check; published payment.unresolved",
                      metadata)
        case .invalid: log.warning("a reconciliation check PayBridge did not write; dead-lettered")
        case .off: break
        }
    }
}
