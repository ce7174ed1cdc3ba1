import PayBridgeContract
import PayBridgeRules

/// Where the worker and the callback endpoint send what they publish: outcome events, and commands published again
/// (broker-side retries, dead letters, put-backs). Every method returns only after the broker confirmed, so callers
/// ack their input afterwards, and throws when it did not.
///
/// ``OutcomePublisher`` is the broker's; the tests have an in-memory one.
protocol OutcomeSink: Sendable {
    /// Publishes an outcome event to `payments.outcomes`.
    func publish(_ event: OutcomeMessage) async throws
    /// Publishes a command into the delay queue of its next attempt.
    func scheduleRetry(_ retry: CommandRetry) async throws
    /// Publishes a payment's next reconciliation check into its delay queue.
    func scheduleCheck(_ check: ScheduledCheck) async throws
    /// Publishes `events`, then `check`, in that order, and returns once the broker confirmed every one; throws
    /// when any was not confirmed (the caller publishes them all again: events keep their ids). The default
    /// publishes one by one; ``OutcomePublisher`` hands them to the broker connection as one batch.
    func publish(_ events: [OutcomeMessage], then check: ScheduledCheck?) async throws
    /// Publishes a command to the dead-letter exchange.
    func deadLetter(_ deadLetter: CommandDeadLetter) async throws
    /// Returns an unprocessed command to the tail of `queue` as it arrived (see
    /// ``CommandDelivery/putBackProperties()``), for a pause.
    func putBack(_ delivery: CommandDelivery, queue: String) async throws
    /// Stores a verified callback on its provider's command queue for a worker to confirm (the callback endpoint
    /// answers 200 only after this returned).
    func store(_ notification: CallbackNotification) async throws
    /// Answers a payment-methods query: publishes the reply to the default exchange with routing key = the query's
    /// direct reply-to name. The broker confirms it even when the asker is gone (then nobody receives it).
    func reply(_ reply: PaymentMethodsReply) async throws
}

extension OutcomeSink {
    func publish(_ events: [OutcomeMessage], then check: ScheduledCheck?) async throws {
        for event in events { try await publish(event) }
        if let check { try await scheduleCheck(check) }
    }
}
