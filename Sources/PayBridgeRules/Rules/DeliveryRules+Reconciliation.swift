import Foundation
import PayBridgeContract
import PaymentVocabulary

/// The reconciliation rules ("quiet payments are reconciled"), pure like the command rules.
///
/// - A create whose outcome leaves the payment open (`requires_action`, `processing`, `under_review`, or `unknown`
///   after giving up) schedules check 1 into the delay queue of the schedule's first delay. Only creates start a
///   chain: a status command is the producer's own read, and `specify` / `sms` act on a payment whose create
///   already started one.
/// - A check reads the status (``PaymentCommandExecutor/check(_:)``):
///   - the status (or the provider's status text) changed → `payment.response` for the command, with
///     `data.reconciliation` {check, of, openSince}, `time` = the read's answer, id fact `reconcile:<check>`;
///   - a final status ends the chain;
///   - still open → the next check, or, after the last one, `paybridge.payment.unresolved.v1`;
///   - the read failed (timeout, the provider does not know the payment, an unusable answer) → nothing is
///     published; the next check, or `unresolved` with the error;
///   - configuration refused / circuit open → put back and pause the provider, as for commands.
/// - A check that is not one of PayBridge's is dead-lettered (`RECONCILE_CHECK_INVALID`); with the schedule `off`
///   a check that arrives is dropped unread.
extension DeliveryRules {
    /// Check 1 after a command's outcome, when the command is a create, the payment is left open and the schedule
    /// is on.
    /// - Parameter openSince: the outcome event's `time` (RFC 3339).
    package func firstCheck(_ command: PaymentCommand, outcome: PaymentOutcome, openSince: String) -> ScheduledCheck? {
        guard !reconcileSchedule.isOff, command.kind.createsPayment, !outcome.status.isFinal,
            let paymentId = command.paymentId
        else {
            return nil
        }
        return scheduled(ReconcileCheck(
            kind: command.kind, account: command.account ?? .default, commandId: command.id, paymentId: paymentId,
            providerPaymentId: outcome.providerPaymentId, status: outcome.status, providerStatus: outcome.providerStatus,
            amount: command.amount, currency: command.currency, step: 1, openSince: openSince))
    }

    /// `check` on its way to the delay queue of its step; `nil` when the schedule is off.
    package func scheduled(_ check: ReconcileCheck) -> ScheduledCheck? {
        guard let delay = reconcileSchedule.delayMilliseconds(beforeStep: check.step) else { return nil }
        return ScheduledCheck(check: check, queue: Topology.reconcileQueue(provider, delayMilliseconds: delay))
    }

    /// The plan once check `check` read the status (or failed to). The schedule is on.
    package func plan(check: ReconcileCheck, result: Result<ProviderResult, ProviderError>, at time: Date) -> DeliveryPlan {
        switch result {
        case .success(let read):
            let changed = read.status != check.status || read.providerStatus != check.providerStatus
            var events: [OutcomeMessage] = []
            if changed {
                var outcome = OutcomeMapping.outcome(
                    read, provider: provider, commandId: check.commandId, kind: check.kind,
                    paymentId: check.paymentId, attempts: nil, pii: eventPII)
                outcome.account = check.account
                outcome.reconciliation = PaymentOutcome.Reconciliation(
                    check: check.step, of: reconcileSchedule.steps, openSince: check.openSince)
                outcome.amountMismatch = PaymentOutcome.AmountMismatch.between(
                    expected: check.amount, expectedCurrency: check.currency, provider: read.amount?.text,
                    providerCurrency: read.currency, expectedFrom: .command)
                events.append(OutcomeEvents.response(outcome, time: time, fact: "reconcile:\(check.step)"))
            }
            if read.isFinal || read.status.isFinal {
                return DeliveryPlan(events: events, disposition: .ack, verdict: .reconciled(.changed))
            }
            let next = check.next(status: read.status, providerStatus: read.providerStatus,
                                  providerPaymentId: read.providerPaymentId)
            return goOn(next, events: events, lastError: nil, at: time, verdict: changed ? .changed : .unchanged)
        case .failure(let error) where error.errorClass == .configuration || error.isCircuitOpen:
            return paused(by: error)
        case .failure(let error):
            let next = check.next(status: check.status, providerStatus: check.providerStatus, providerPaymentId: nil)
            let lastError = OutcomeError(code: error.code.rawValue, message: error.message, errorClass: error.errorClass)
            return goOn(next, events: [], lastError: lastError, at: time, verdict: .readFailed)
        }
    }

    /// The next check, or, past the schedule's last step, `unresolved` for the payment as `next` describes it.
    private func goOn(
        _ next: ReconcileCheck, events: [OutcomeMessage], lastError: OutcomeError?, at time: Date,
        verdict: DeliveryPlan.ReconcileResult
    ) -> DeliveryPlan {
        if next.step <= reconcileSchedule.steps, let scheduled = scheduled(next) {
            return DeliveryPlan(events: events, nextCheck: scheduled, disposition: .ack, verdict: .reconciled(verdict))
        }
        // A status the last check did not itself read is stale by now: `unknown` (it never moves a payment), the
        // last one observed beside it.
        var unresolved = UnresolvedPayment(
            commandId: next.commandId, provider: provider, operation: next.kind.operation, paymentId: next.paymentId,
            providerPaymentId: next.providerPaymentId, status: lastError == nil ? next.status : .unknown,
            providerStatus: lastError == nil ? next.providerStatus : nil,
            checks: next.step - 1, openSince: next.openSince, lastCheckError: lastError,
            schedule: reconcileSchedule.description)
        if lastError != nil {
            unresolved.lastObservedStatus = next.status
            unresolved.lastObservedProviderStatus = next.providerStatus
        }
        unresolved.account = next.account
        return DeliveryPlan(events: events + [OutcomeEvents.unresolved(unresolved, time: time)], disposition: .ack,
                            verdict: .reconciled(.unresolved))
    }

    /// A check that arrives while the schedule is `off` (it was scheduled before): dropped unread, nothing published.
    package func planCheckWhileOff() -> DeliveryPlan {
        DeliveryPlan(disposition: .ack, verdict: .reconciled(.off))
    }

    /// A delivery marked as a check that is not one of PayBridge's: dead-lettered, nothing published.
    package func plan(invalidCheck problem: ReconcileCheck.Invalid, delivery: CommandDelivery, at time: Date) -> DeliveryPlan {
        let deadLetter = CommandDeadLetter(
            delivery, sourceQueue: queue, reason: .invalidCommand, code: "RECONCILE_CHECK_INVALID",
            detail: "not a reconciliation check PayBridge wrote: \(problem)", failedEventId: nil, at: time)
        return DeliveryPlan(republish: .deadLetter(deadLetter), disposition: .ack, verdict: .reconciled(.invalid))
    }
}
