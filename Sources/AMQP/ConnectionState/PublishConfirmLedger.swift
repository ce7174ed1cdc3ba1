/// The publishes sent on the confirm-mode channel and not yet settled by the broker, by publish sequence number.
///
/// A plain value with one mutating method per event (sent, `basic.ack`, `basic.nack`, `basic.return`, a caller's
/// deadline passing, the channel ending); each returns the publishes that event settles, in sequence order, as
/// ``Settled`` values the I/O thread hands to their waiters. `Waiter` is whoever waits for the confirm (a
/// continuation in production, a plain number in tests).
struct PublishConfirmLedger<Waiter> {
    /// One publish waiting for its confirm.
    struct Entry {
        var exchange: String
        var routingKey: String
        var mandatory: Bool
        /// Kept only for `mandatory` publishes: it is how a `basic.return` is matched to its publish.
        var body: [UInt8]
        var deadline: ContinuousClock.Instant?
        var returned: PublishEnd?
        var waiter: Waiter
    }

    /// A publish the broker (or a deadline, or the end of the channel) has settled.
    struct Settled {
        var sequence: UInt64
        var waiter: Waiter
        var end: PublishEnd
    }

    /// The sequence number the next publish gets (confirm mode numbers from 1 on each new channel).
    private(set) var nextSequence: UInt64 = 1
    private var lowestUnsettled: UInt64 = 1
    private var entries: [UInt64: Entry] = [:]
    /// No entry has a deadline before this; `nil`: none has one. Checking it costs one comparison per pass.
    private(set) var earliestDeadline: ContinuousClock.Instant?

    init() {}

    var isEmpty: Bool { entries.isEmpty }
    var count: Int { entries.count }

    /// A message went out on the channel; it waits for its confirm under the returned sequence number.
    @discardableResult
    mutating func sent(exchange: String, routingKey: String, mandatory: Bool, body: [UInt8],
                       deadline: ContinuousClock.Instant?, waiter: Waiter) -> UInt64 {
        let sequence = nextSequence
        entries[sequence] = Entry(exchange: exchange, routingKey: routingKey, mandatory: mandatory,
                                  body: mandatory ? body : [], deadline: deadline, returned: nil, waiter: waiter)
        nextSequence += 1
        if let deadline, earliestDeadline.map({ deadline < $0 }) ?? true { earliestDeadline = deadline }
        return sequence
    }

    /// `basic.ack` for `tag` (and every earlier one with `multiple`): confirmed, or returned if a `basic.return`
    /// came first.
    mutating func brokerAcked(upTo tag: UInt64, multiple: Bool) -> [Settled] {
        settle(upTo: tag, multiple: multiple) { $0.returned ?? .confirmed }
    }

    /// `basic.nack` for `tag` (and every earlier one with `multiple`): refused, whether or not it was returned.
    mutating func brokerNacked(upTo tag: UInt64, multiple: Bool) -> [Settled] {
        settle(upTo: tag, multiple: multiple) { _ in .nacked }
    }

    /// `basic.return` names no sequence number; it precedes the confirm of the same message, so it belongs to the
    /// oldest unsettled mandatory publish with the same exchange, routing key and body. Returns whether one matched.
    @discardableResult
    mutating func brokerReturned(exchange: String, routingKey: String, body: [UInt8], replyCode: UInt16,
                                 replyText: String) -> Bool {
        var sequence = lowestUnsettled
        while sequence < nextSequence {
            if let entry = entries[sequence], entry.mandatory, entry.returned == nil, entry.exchange == exchange,
                entry.routingKey == routingKey, entry.body == body
            {
                entries[sequence]!.returned = .returned(exchange: exchange, routingKey: routingKey,
                                                        replyCode: replyCode, replyText: replyText)
                return true
            }
            sequence += 1
        }
        return false
    }

    /// Settles, as ``PublishEnd/confirmTimedOut``, every publish whose caller's deadline is at or before `now`.
    mutating func deadlinesPassed(now: ContinuousClock.Instant) -> [Settled] {
        guard let earliest = earliestDeadline, earliest <= now else { return [] }
        var next: ContinuousClock.Instant?
        var overdue: [UInt64] = []
        for (sequence, entry) in entries {
            guard let deadline = entry.deadline else { continue }
            if deadline <= now {
                overdue.append(sequence)
            } else if next.map({ deadline < $0 }) ?? true {
                next = deadline
            }
        }
        earliestDeadline = next
        let settled = overdue.sorted().map { sequence in
            Settled(sequence: sequence, waiter: entries.removeValue(forKey: sequence)!.waiter, end: .confirmTimedOut)
        }
        advanceLowestUnsettled()
        return settled
    }

    /// The channel is gone (connection lost, channel closed, connection closed): every unsettled publish ends with
    /// `end`, and the next channel numbers from 1 again.
    mutating func channelEnded(_ end: PublishEnd) -> [Settled] {
        let settled = entries.keys.sorted().map { sequence in
            Settled(sequence: sequence, waiter: entries[sequence]!.waiter, end: end)
        }
        entries.removeAll()
        nextSequence = 1
        lowestUnsettled = 1
        earliestDeadline = nil
        return settled
    }

    private mutating func settle(upTo tag: UInt64, multiple: Bool, _ end: (Entry) -> PublishEnd) -> [Settled] {
        // A tag past the last publish settles nothing more: a broker's bogus tag costs no loop over it.
        let first = multiple ? lowestUnsettled : tag
        let last = min(tag, nextSequence - 1)
        guard first <= last else { return [] }
        var settled: [Settled] = []
        for sequence in first...last {
            guard let entry = entries.removeValue(forKey: sequence) else { continue }
            settled.append(Settled(sequence: sequence, waiter: entry.waiter, end: end(entry)))
        }
        advanceLowestUnsettled()
        return settled
    }

    private mutating func advanceLowestUnsettled() {
        while lowestUnsettled < nextSequence, entries[lowestUnsettled] == nil { lowestUnsettled += 1 }
    }
}

extension PublishConfirmLedger.Settled: Equatable where Waiter: Equatable {}
extension PublishConfirmLedger.Settled: Sendable where Waiter: Sendable {}
