import Foundation
import PayBridgeContract
import PaymentVocabulary

/// One walk for every delivery: decide its kind once (``classify(_:receivedAt:)``); before the provider call, the
/// plan that replaces it, if any (``screen(_:delivery:at:)``: unreadable, an account this deployment does not have;
/// then ``admit(_:account:notificationKey:delivery:memory:now:)``: a paused account, a duplicate callback, a check
/// while reconciliation is off); after it, the rules' plan for what it came to (``plan(_:delivery:at:)``) as the
/// worker's memory adjusts it (``adjust(_:after:delivery:account:memory:now:)``: a run of bad response signatures,
/// an account's pause). The steps that build events take no memory, so the worker runs them outside its lock.
extension DeliveryRules {
    /// What the worker does next with a delivery, before any provider call.
    package enum Admission: Sendable {
        /// The delivery is settled without a provider call: carry this plan out.
        case planned(DeliveryPlan)
        /// Call the provider with this account's keys.
        case execute(account: MerchantAccount)
    }

    /// The delivery's kind. Only PayBridge's own messages (``CommandDelivery/isInternal``: a producer's
    /// `x-paybridge-*` headers are gone by now) can be callback notifications or reconciliation checks.
    package func classify(_ delivery: CommandDelivery, receivedAt: Date) -> DeliveryKind {
        if delivery.headers.problem == nil, CallbackNotification.isNotification(delivery) {
            return .notification(CallbackNotification(delivery: delivery, provider: provider, now: receivedAt))
        }
        if delivery.headers.problem == nil, ReconcileCheck.isCheck(delivery) {
            let provider = provider
            return .check(Result { () throws(ReconcileCheck.Invalid) in
                try ReconcileCheck(body: delivery.body, provider: provider)
            })
        }
        if provider == .firstpay, delivery.originalRoutingKey == PaymentMethodsQuery.routingKey {
            return .query(decodeQuery(delivery))
        }
        return .command(decode(delivery))
    }

    /// What settles `kind` whatever the worker remembers (it cannot be read, or it names an account this deployment
    /// does not have), or the account it names. Builds events, so the worker runs it outside its memory's lock.
    package func screen(_ kind: DeliveryKind, delivery: CommandDelivery, at time: Date) -> Admission {
        switch kind {
        case .command(.failure(let rejection)):
            return .planned(plan(rejected: rejection, delivery: delivery, at: time))
        case .check(.failure(let problem)):
            return .planned(plan(invalidCheck: problem, delivery: delivery, at: time))
        case .query(.failure(let rejected)):
            return .planned(plan(queryRejected: rejected, delivery: delivery, at: time))
        default:
            break
        }
        guard let account = kind.account, accounts.contains(account) else {
            if case .command(.success(let command)) = kind {
                return .planned(plan(unknownAccount: command, delivery: delivery, at: time))
            }
            if case .query(.success(let query)) = kind {
                return .planned(plan(unknownAccountQuery: query, at: time))
            }
            let isNotification = if case .notification = kind { true } else { false }
            return .planned(plan(unknownAccountOf: delivery, account: kind.account, notification: isNotification,
                                 at: time))
        }
        return .execute(account: account)
    }

    /// The key a first delivery of a callback notification is remembered by (``RecentNotifications``); `nil` for
    /// anything else. Only a first delivery can be a replay: a retry of a notification whose read failed, or one the
    /// broker delivers again, is read even within the window (and costs no digest).
    package func notificationKey(_ kind: DeliveryKind, delivery: CommandDelivery, account: MerchantAccount) -> String? {
        guard case .notification(let notification) = kind, delivery.attempt == 1, !delivery.redelivered else {
            return nil
        }
        return RecentNotifications.key(provider: provider.rawValue, account: account.name,
                                       bodyDigest: EventID.sha256Hex(notification.body),
                                       signature: notification.signature)
    }

    /// What the worker's memory says of a delivery ``screen(_:delivery:at:)`` let through: a paused account defers
    /// it, an identical callback read moments ago is acked unread, a check while reconciliation is off is dropped;
    /// else call the provider. Cheap (no events are built): the worker runs it inside its memory's lock.
    package func admit(
        _ kind: DeliveryKind, account: MerchantAccount, notificationKey: String?, delivery: CommandDelivery,
        memory: inout WorkerMemory, now: ContinuousClock.Instant
    ) -> Admission {
        // A query is answered whatever the memory says: a paused account's fetch fails fast and says so in the reply.
        if case .query = kind { return .execute(account: account) }
        switch memory.arrived(account: account, notificationKey: notificationKey, now: now) {
        case .defer(let stage):
            return .planned(plan(deferring: delivery, account: account, stage: stage))
        case .duplicateNotification:
            guard case .notification(let notification) = kind else { break }
            return .planned(DeliveryPlan(disposition: .ack, verdict: .duplicateCallback(notificationId: notification.id)))
        case .proceed:
            break
        }
        if case .check = kind, reconcileSchedule.isOff { return .planned(planCheckWhileOff()) }
        return .execute(account: account)
    }

    /// The rules' plan as the worker's memory adjusts it: a run of bad response signatures that reached its
    /// threshold pauses instead; a pause is narrowed to the account while the provider's other accounts work (the
    /// delivery is deferred). `pausedAccount`: the account paused just now, for the log line. Cheap (the events were
    /// built before): the worker runs it inside its memory's lock.
    package func adjust(
        _ planned: DeliveryPlan, after execution: DeliveryExecution, delivery: CommandDelivery,
        account: MerchantAccount, memory: inout WorkerMemory, now: ContinuousClock.Instant
    ) -> (plan: DeliveryPlan, pausedAccount: Bool) {
        var plan = planned
        if case .pauseForBadSignatures(let count) = memory.executed(execution, account: account) {
            plan = planPause(forBadSignatures: count)
        }
        if case .deferAccount(let stage, let newlyPaused) = memory.planned(plan, account: account, now: now) {
            return (self.plan(deferring: delivery, account: account, stage: stage), newlyPaused)
        }
        return (plan, false)
    }

    /// The rules' plan for what a provider call came to, before the worker's memory has seen it.
    package func plan(_ execution: DeliveryExecution, delivery: CommandDelivery, at time: Date) -> DeliveryPlan {
        switch execution {
        case .command(let command, let result):
            plan(executed: command, delivery: delivery, execution: result, at: time)
        case .notification(let notification, let result):
            plan(notification: notification, delivery: delivery, result: result, at: time)
        case .check(let check, let result):
            plan(check: check, result: result, at: time)
        case .query(let query, let result):
            plan(query: query, result: result, at: time)
        }
    }
}
