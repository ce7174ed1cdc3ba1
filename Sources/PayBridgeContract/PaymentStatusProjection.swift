import PaymentVocabulary

/// The consumers' status rule (docs/contract.md, "The status rule"), as a reference implementation: what an order
/// service keeps per payment, moved by every event it reads, in any order.
///
/// For each payment — `(provider, data.account, data.paymentId)`, `data.account` absent meaning `default` — among
/// all events whose `data.status` is not `unknown`, the payment's status is that of the newest final one (newest by
/// `time`), or, while none is final, that of the newest one. Applied as events arrive: a final status replaces any
/// non-final status and any older final one; a non-final status replaces only an older non-final one; on equal
/// times the status held stays. Events whose `data.status` is `unknown` (or a value this version does not know: the
/// tolerant-reader rule) never move the payment.
///
/// An event without `data.paymentId` (an Amanpay SPECIFICATION callback, confirmed by its signature only) is placed
/// by `data.providerPaymentId`, through an earlier or later event that names both ids; until one does, it waits.
public struct PaymentStatusProjection: Sendable {
    /// Which payment an event is about.
    public struct Key: Sendable, Hashable, CustomStringConvertible {
        public var provider: String
        public var account: String
        public var paymentId: String

        public init(provider: String, account: String = MerchantAccount.default.name, paymentId: String) {
            self.provider = provider
            self.account = account
            self.paymentId = paymentId
        }

        public var description: String { "\(provider)/\(account)/\(paymentId)" }
    }

    /// What the projection holds for one payment.
    public struct Entry: Sendable, Equatable {
        public var status: PaymentStatus
        public var final: Bool
        public var time: RFC3339Instant
        /// The provider's status text of the event that set it.
        public var providerStatus: String?
        /// The event that set it.
        public var eventId: String
    }

    /// What one event did.
    public enum Effect: Sendable, Equatable {
        /// It set the payment's status (the first status, or a newer one under the rule).
        case moved(Key)
        /// The rule kept the status the payment had.
        case kept(Key)
        /// It never moves a payment: its status is `unknown` (or unknown to this version), or it is not an event
        /// with a status.
        case ignored
        /// It names no `paymentId` and no event placed its `providerPaymentId` yet: it waits for one.
        case waiting
        /// It names neither id, or its `time` is not RFC 3339: it cannot be placed.
        case unplaceable
    }

    /// The statuses, per payment.
    public private(set) var payments: [Key: Entry] = [:]
    /// `providerPaymentId` → payment, learned from events that name both ids.
    private var placements: [ProviderID: Key] = [:]
    /// Events without `paymentId` waiting for their placement, by `providerPaymentId`.
    private var waiting: [ProviderID: [Candidate]] = [:]

    private struct ProviderID: Hashable, Sendable {
        var provider: String
        var account: String
        var providerPaymentId: String
    }

    private struct Candidate: Sendable {
        var status: PaymentStatus
        var final: Bool
        var time: RFC3339Instant
        var providerStatus: String?
        var eventId: String
    }

    public init() {}

    /// The payment's status now, if any event moved it.
    public subscript(key: Key) -> Entry? { payments[key] }

    /// Events still waiting for a placement (no `paymentId`, and no event named their `providerPaymentId`).
    public var waitingCount: Int { waiting.values.reduce(0) { $0 + $1.count } }

    /// Applies one event.
    @discardableResult
    public mutating func apply(_ event: CloudEvent) -> Effect {
        guard let data = event.data, let provider = data["provider"]?.stringValue else { return .ignored }
        let account = data["account"]?.stringValue ?? MerchantAccount.default.name
        let paymentId = data["paymentId"]?.stringValue
        let providerPaymentId = data["providerPaymentId"]?.stringValue
        var key: Key?
        if let paymentId {
            let placed = Key(provider: provider, account: account, paymentId: paymentId)
            key = placed
            if let providerPaymentId { place(ProviderID(provider: provider, account: account,
                                                       providerPaymentId: providerPaymentId), at: placed) }
        }
        guard let statusText = data["status"]?.stringValue, let status = PaymentStatus(rawValue: statusText),
            status != .unknown
        else { return .ignored }
        guard let time = event.time.flatMap(RFC3339Instant.init) else { return .unplaceable }
        let candidate = Candidate(status: status, final: data["final"]?.boolValue ?? status.isFinal, time: time,
                                  providerStatus: data["providerStatus"]?.stringValue, eventId: event.id)
        if key == nil, let providerPaymentId {
            let id = ProviderID(provider: provider, account: account, providerPaymentId: providerPaymentId)
            guard let placed = placements[id] else {
                waiting[id, default: []].append(candidate)
                return .waiting
            }
            key = placed
        }
        guard let key else { return .unplaceable }
        return apply(candidate, to: key) ? .moved(key) : .kept(key)
    }

    /// Whether `candidate` replaces what `key` holds, under the rule; sets it when it does.
    private mutating func apply(_ candidate: Candidate, to key: Key) -> Bool {
        if let current = payments[key] {
            let replaces = candidate.final
                ? !current.final || current.time < candidate.time
                : !current.final && current.time < candidate.time
            guard replaces else { return false }
        }
        payments[key] = Entry(status: candidate.status, final: candidate.final, time: candidate.time,
                              providerStatus: candidate.providerStatus, eventId: candidate.eventId)
        return true
    }

    private mutating func place(_ id: ProviderID, at key: Key) {
        guard placements[id] == nil else { return }
        placements[id] = key
        for candidate in waiting.removeValue(forKey: id) ?? [] { _ = apply(candidate, to: key) }
    }
}
