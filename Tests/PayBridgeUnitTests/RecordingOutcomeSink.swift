import AMQP
@testable import PayBridge
import PayBridgeRules
import PayBridgeContract
import Synchronization

/// An in-memory ``OutcomeSink``: records what would have been published, in order, and can refuse publishes (as a
/// broker that nacks or is unreachable would) before it accepts them.
final class RecordingOutcomeSink: OutcomeSink {
    enum Published: Equatable, Sendable {
        case event(OutcomeMessage)
        case retry(CommandRetry)
        case deadLetter(CommandDeadLetter)
        case putBack(CommandDelivery, queue: String)
        case stored(CallbackNotification)
        case check(ScheduledCheck)
        case reply(PaymentMethodsReply)
    }

    /// What a refused publish throws.
    struct Refused: Error {}

    private struct State {
        var published: [Published] = []
        var refusalsLeft: Int
        var refusals = 0
    }
    private let state: Mutex<State>
    /// Publishes refused as a connection refuses properties too large for its frame (`.propertiesTooLarge`), every
    /// time they are tried.
    private let tooLarge: @Sendable (Published) -> Bool

    /// - Parameters:
    ///   - refusing: how many publishes to refuse before accepting (`Int.max`: refuse every one).
    ///   - tooLarge: which publishes can never be encoded (counted as refusals, never accepted).
    init(refusing: Int = 0, tooLarge: @escaping @Sendable (Published) -> Bool = { _ in false }) {
        state = Mutex(State(refusalsLeft: refusing))
        self.tooLarge = tooLarge
    }

    /// What was accepted, in order.
    var published: [Published] { state.withLock { $0.published } }
    /// How many publishes were refused.
    var refusals: Int { state.withLock { $0.refusals } }
    /// The accepted events.
    var events: [OutcomeMessage] {
        published.compactMap { if case .event(let event) = $0 { event } else { nil } }
    }

    func publish(_ event: OutcomeMessage) async throws { try record(.event(event)) }
    func scheduleRetry(_ retry: CommandRetry) async throws { try record(.retry(retry)) }
    func deadLetter(_ deadLetter: CommandDeadLetter) async throws { try record(.deadLetter(deadLetter)) }
    func putBack(_ delivery: CommandDelivery, queue: String) async throws {
        try record(.putBack(delivery, queue: queue))
    }

    func store(_ notification: CallbackNotification) async throws { try record(.stored(notification)) }
    func scheduleCheck(_ check: ScheduledCheck) async throws { try record(.check(check)) }
    func reply(_ reply: PaymentMethodsReply) async throws { try record(.reply(reply)) }
    /// The accepted query replies.
    var replies: [PaymentMethodsReply] {
        published.compactMap { if case .reply(let reply) = $0 { reply } else { nil } }
    }
    /// The accepted reconciliation checks.
    var checks: [ScheduledCheck] {
        published.compactMap { if case .check(let check) = $0 { check } else { nil } }
    }
    /// The accepted callback notifications.
    var notifications: [CallbackNotification] {
        published.compactMap { if case .stored(let notification) = $0 { notification } else { nil } }
    }

    private func record(_ published: Published) throws {
        if tooLarge(published) {
            state.withLock { $0.refusals += 1 }
            throw AMQPError(.propertiesTooLarge, "cannot publish: the message properties do not fit a frame")
        }
        let accepted = state.withLock { state -> Bool in
            if state.refusalsLeft > 0 {
                state.refusalsLeft -= 1
                state.refusals += 1
                return false
            }
            state.published.append(published)
            return true
        }
        if !accepted { throw Refused() }
    }
}
