import Foundation
import PaymentVocabulary
import Testing

@testable import PayBridgeContract

/// The consumers' status rule (``PaymentStatusProjection``), one test per kind of event and per race the rule must
/// survive, on events built by PayBridge's own builders: no broker.
@Suite struct PaymentStatusProjectionTests {
    static let base = Date(timeIntervalSince1970: 1_795_000_000)

    static func at(_ seconds: Double) -> Date { base.addingTimeInterval(seconds) }

    static func outcome(_ status: PaymentStatus, paymentId: String? = "payment_812", providerPaymentId: String? = "62861",
                        account: MerchantAccount? = .default, error: OutcomeError? = nil) -> PaymentOutcome {
        var outcome = PaymentOutcome(
            commandId: "cmd-1", provider: .amanpay, operation: "purchase", paymentId: paymentId,
            providerPaymentId: providerPaymentId, status: status, final: status.isFinal, providerStatus: nil,
            error: error)
        outcome.account = account
        return outcome
    }

    static func response(_ status: PaymentStatus, at seconds: Double, error: OutcomeError? = nil) -> CloudEvent {
        OutcomeEvents.response(outcome(status, error: error), time: at(seconds)).event
    }

    static func callback(_ status: PaymentStatus, at seconds: Double, notification: String,
                         paymentId: String? = "payment_812") -> CloudEvent {
        var outcome = outcome(status, paymentId: paymentId)
        outcome.commandId = nil
        outcome.notificationId = notification
        return OutcomeEvents.callback(outcome, time: at(seconds)).event
    }

    static let key = PaymentStatusProjection.Key(provider: "amanpay", paymentId: "payment_812")

    func status(after events: [CloudEvent]) -> PaymentStatus? {
        var projection = PaymentStatusProjection()
        for event in events { projection.apply(event) }
        return projection[Self.key]?.status
    }

    /// The rule holds whatever order the events arrive in.
    func statusInEveryOrder(_ events: [CloudEvent]) -> Set<PaymentStatus?> {
        func permutations(_ items: [CloudEvent]) -> [[CloudEvent]] {
            guard items.count > 1 else { return [items] }
            return items.indices.flatMap { i -> [[CloudEvent]] in
                var rest = items
                let head = rest.remove(at: i)
                return permutations(rest).map { [head] + $0 }
            }
        }
        return Set(permutations(events).map { status(after: $0) })
    }

    @Test func aFinalCallbackStaysWhenTheSlowCreateAnswerIsStampedAfterIt() {
        // The gateway sent the callback before it answered the create.
        let events = [Self.callback(.succeeded, at: 1, notification: "n-1"), Self.response(.requiresAction, at: 2)]
        #expect(statusInEveryOrder(events) == [.succeeded])
    }

    @Test func aCommandFailedEventNeverMovesAPayment() {
        let failed = OutcomeEvents.commandFailed(
            Self.outcome(.failed, error: OutcomeError(code: "TIMEOUT", message: "m", errorClass: .retriesExhausted)),
            time: Self.at(9)).event
        #expect(failed.data?["status"] == "unknown", "the builder says nothing about the payment")
        #expect(statusInEveryOrder([Self.response(.succeeded, at: 1), failed]) == [.succeeded])
        var projection = PaymentStatusProjection()
        #expect(projection.apply(failed) == .ignored)
    }

    @Test func aLookupThatFindsNothingNeverMovesAPayment() {
        let notFound = Self.response(.unknown, at: 5, error: OutcomeError(
            code: "TRANSACTION_NOT_FOUND", message: "m", errorClass: .notFound))
        #expect(statusInEveryOrder([Self.response(.requiresAction, at: 1), notFound]) == [.requiresAction])
    }

    @Test func aNewerFinalReplacesAnOlderFinalInEveryOrder() {
        // FirstPay SUCCESS → FAILED → SUCCESS: three notifications, final → newer final.
        let events = [Self.callback(.succeeded, at: 1, notification: "n-1"),
                      Self.callback(.failed, at: 2, notification: "n-2"),
                      Self.callback(.succeeded, at: 3, notification: "n-3"), Self.response(.processing, at: 4)]
        #expect(statusInEveryOrder(events) == [.succeeded])
        #expect(statusInEveryOrder(Array(events.prefix(2))) == [.failed])
    }

    @Test func aNonFinalReplacesOnlyAnOlderNonFinal() {
        let events = [Self.response(.requiresAction, at: 1), Self.callback(.processing, at: 2, notification: "n-1")]
        #expect(statusInEveryOrder(events) == [.processing])
        var projection = PaymentStatusProjection()
        projection.apply(Self.response(.processing, at: 2))
        #expect(projection.apply(Self.response(.requiresAction, at: 2)) == .kept(Self.key), "equal times: it stays")
    }

    @Test func aNonFinalAnswerAfterAFinalIsKeptOut() {
        // An Amanpay final never becomes non-final: a later non-final read is published as what it is.
        #expect(statusInEveryOrder([Self.response(.cancelled, at: 1), Self.response(.processing, at: 5)]) == [.cancelled])
    }

    @Test func anUnresolvedEventWhoseLastReadFailedNeverMovesThePayment() {
        var unresolved = UnresolvedPayment(
            commandId: "cmd-1", provider: .amanpay, operation: "purchase", paymentId: "payment_812",
            providerPaymentId: "62861", status: .unknown, providerStatus: nil, checks: 6,
            openSince: "2026-11-18T11:00:00.000Z",
            lastCheckError: OutcomeError(code: "TIMEOUT", message: "m", errorClass: .transient), schedule: "1m")
        unresolved.lastObservedStatus = .requiresAction
        let event = OutcomeEvents.unresolved(unresolved, time: Self.at(9)).event
        #expect(statusInEveryOrder([Self.callback(.processing, at: 5, notification: "n-1"), event]) == [.processing])
    }

    @Test func aStatusThisVersionDoesNotKnowIsReadAsUnknown() throws {
        // The tolerant-reader rule: a new enum value within v1 never moves a payment.
        var event = Self.response(.succeeded, at: 9)
        guard case .object(var data)? = event.data else { throw CancellationError() }
        data["status"] = "chargeback_pending"
        data["final"] = false
        event.data = .object(data)
        var projection = PaymentStatusProjection()
        #expect(projection.apply(event) == .ignored)
        #expect(statusInEveryOrder([Self.response(.processing, at: 1), event]) == [.processing])
    }

    @Test func aSignatureOnlyCallbackIsPlacedByProviderPaymentIdWhicheverArrivesFirst() {
        let specification = Self.callback(.requiresAction, at: 3, notification: "n-1", paymentId: nil)
        let create = Self.response(.processing, at: 1)
        #expect(statusInEveryOrder([specification, create]) == [.requiresAction])
        var projection = PaymentStatusProjection()
        #expect(projection.apply(specification) == .waiting)
        #expect(projection.waitingCount == 1)
        projection.apply(create)
        #expect(projection[Self.key]?.status == .requiresAction && projection.waitingCount == 0)
        // A replayed copy, stamped later, never moves a final payment.
        projection.apply(Self.callback(.succeeded, at: 4, notification: "n-2"))
        projection.apply(Self.callback(.requiresAction, at: 9, notification: "n-3", paymentId: nil))
        #expect(projection[Self.key]?.status == .succeeded)
    }

    @Test func accountsKeepTheirPaymentsApart() {
        var projection = PaymentStatusProjection()
        projection.apply(Self.response(.succeeded, at: 1))
        var other = Self.outcome(.failed, account: MerchantAccount("bd"))
        other.providerPaymentId = "99"
        projection.apply(OutcomeEvents.response(other, time: Self.at(2)).event)
        #expect(projection[Self.key]?.status == .succeeded)
        #expect(projection[PaymentStatusProjection.Key(provider: "amanpay", account: "bd", paymentId: "payment_812")]?
            .status == .failed)
    }

    @Test(arguments: [
        ("2026-11-21T06:00:01.250Z", "2026-11-21T08:00:01.25+02:00", true),
        ("2026-11-21T06:00:01Z", "2026-11-21T06:00:01.000000001Z", false),
        ("2024-02-29T23:59:59Z", "2024-03-01T00:00:00Z", false),
    ])
    func instantsCompareAsInstantsNotAsText(_ a: String, _ b: String, _ equal: Bool) throws {
        let x = try #require(RFC3339Instant(a))
        let y = try #require(RFC3339Instant(b))
        #expect((x == y) == equal)
        if !equal { #expect(x < y) }
    }

    @Test(arguments: ["", "2026-11-21", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z", "2026-11-21T06:00:01",
                      "2026-11-21T06:00:01.Z", "2026-11-21T06:00:01.1234567890Z", "2026-11-21T06:00:01+0200",
                      "２026-11-21T06:00:01Z", String(repeating: "9", count: 100)])
    func nonRFC3339TimesAreRefused(_ text: String) {
        #expect(RFC3339Instant(text) == nil)
    }

    @Test func theInstantOfPayBridgesOwnTimesIsExact() throws {
        let date = Date(timeIntervalSince1970: 1_795_000_000.25)
        let instant = try #require(RFC3339Instant(RFC3339.string(from: date)))
        #expect(instant == RFC3339Instant(seconds: 1_795_000_000, nanoseconds: 250_000_000))
    }
}
