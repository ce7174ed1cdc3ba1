import PayBridgeContract
import PaymentVocabulary

/// What to do with one command delivery, as ``DeliveryRules`` decided it: the events to publish, the
/// next reconciliation check of a payment left open, the command's re-publication (a broker-side retry or a dead
/// letter), and the delivery's disposition once all are confirmed.
///
/// ``CommandProcessor`` carries it out in that order: every event, then the next check, then the re-publication,
/// each confirmed by the broker before the next step; the delivery is settled last.
package struct DeliveryPlan: Equatable, Sendable {
    /// How the command itself is published again.
    package enum Republish: Equatable, Sendable {
        /// Into a delay queue, to be redelivered as its next attempt.
        case retry(CommandRetry)
        /// Into the dead-letter exchange, for good.
        case deadLetter(CommandDeadLetter)
    }

    /// What happened to the command, for logs and `paybridge_commands_total{outcome}`.
    package enum Verdict: Equatable, Sendable {
        /// Not an acceptable command (metadata, size, JSON, schema): `command.failed` and the dead-letter queue.
        case rejected(code: String)
        /// The provider answered (a decline and an unresolved `unknown` included): `payment.response`.
        case answered(status: PaymentStatus)
        /// Transient trouble with attempts left: a broker-side retry.
        case retryScheduled(code: String)
        /// The command cannot succeed (or its retries are exhausted): `command.failed`.
        case failed(code: String, errorClass: ErrorClass)
        /// The provider refused PayBridge's configuration: put back and pause.
        case pausedForConfiguration(code: ProviderError.Code)
        /// The provider's circuit is open: put back and pause.
        case pausedForOpenCircuit
        /// The command's merchant account is paused (``AccountPauses``): into a delay queue, attempt unchanged.
        case deferred(account: String)
        /// A callback notification was confirmed (or, without a payment id, taken from its signed values):
        /// `payment.callback` with this status.
        case callbackPublished(status: PaymentStatus)
        /// A callback notification could not be confirmed (unknown payment, retries exhausted, not verifiable):
        /// dead-lettered, nothing published.
        case callbackNotPublished(code: String, errorClass: ErrorClass)
        /// A reconciliation check ran (or was not run), for logs and `paybridge_reconcile_checks_total{result}`.
        case reconciled(ReconcileResult)
        /// A callback notification identical to one read moments ago (``RecentNotifications``): acked unread, the
        /// first one's read speaks for it.
        case duplicateCallback(notificationId: String)
        /// A payment-methods query was answered with FirstPay's methods.
        case queryAnswered(methods: Int)
        /// A payment-methods query was answered with an error (or dead-lettered: it named no usable `reply_to`).
        case queryFailed(code: String, errorClass: ErrorClass)
    }

    /// What a reconciliation check came to.
    package enum ReconcileResult: String, Equatable, Sendable, CaseIterable {
        /// The status changed: `payment.response` (and, when still open, the next check).
        case changed
        /// The status is as before: the next check.
        case unchanged
        /// The status read failed: the next check (or `unresolved`).
        case readFailed = "read_failed"
        /// Still open (or unreadable) after the last check: `payment.unresolved`.
        case unresolved
        /// Not a check PayBridge wrote: dead-lettered.
        case invalid
        /// `PAYBRIDGE_RECONCILE_SCHEDULE` is `off`: dropped without a read.
        case off
    }

    /// Outcome events, published in this order.
    package var events: [OutcomeMessage]
    /// The payment's next reconciliation check, published into its delay queue after the events.
    package var nextCheck: ScheduledCheck?
    /// Published after the events and the next check, if any.
    package var republish: Republish?
    /// What to do with the delivery once everything above is confirmed.
    package var disposition: DeliveryDisposition
    package var verdict: Verdict
    /// The answer to a payment-methods query, published (and confirmed) before the delivery is settled.
    package var reply: PaymentMethodsReply?

    package init(events: [OutcomeMessage] = [], nextCheck: ScheduledCheck? = nil, republish: Republish? = nil,
                 reply: PaymentMethodsReply? = nil, disposition: DeliveryDisposition, verdict: Verdict) {
        self.reply = reply
        self.events = events
        self.nextCheck = nextCheck
        self.republish = republish
        self.disposition = disposition
        self.verdict = verdict
    }
}
