/// When bad response signatures stop being one command's problem and become the provider's.
///
/// A response whose signature does not verify (`INVALID_RESPONSE_SIGNATURE`) is a per-command `provider_error`:
/// the command is retried broker-side and then given up, and the provider keeps serving the other commands. Only
/// a systematic pattern pauses the provider: `threshold` *different* commands in a row whose responses did not
/// verify (a wrong secret, a changed A2 field list, a tampering proxy). One payment whose response never verifies
/// counts once, however often it is retried. A usable answer ends the streak.
///
/// A plain value: ``CommandProcessor`` keeps one per provider behind a lock and asks it after each execution.
package struct BadSignatureStreak: Equatable, Sendable {
    /// `PAYBRIDGE_BAD_SIGNATURE_PAUSE_THRESHOLD`'s default.
    package static let defaultThreshold = 5

    /// Distinct commands with bad signatures, in a row, that pause the provider (≥ 1).
    package let threshold: Int
    /// The distinct command ids of the current streak, oldest first (at most `threshold`).
    package private(set) var commandIds: [String] = []

    package init(threshold: Int = Self.defaultThreshold) {
        self.threshold = max(1, threshold)
    }

    /// Whether the streak is long enough to pause the provider.
    package var tripped: Bool { commandIds.count >= threshold }

    /// A response to `commandId` did not verify. Returns `true` when the provider should pause: this command
    /// completes (or extends) a streak of `threshold` distinct commands. While tripped, every further bad signature
    /// pauses again, until a usable answer resets the streak.
    package mutating func recordBadSignature(commandId: String) -> Bool {
        if !commandIds.contains(commandId) {
            commandIds.append(commandId)
            if commandIds.count > threshold { commandIds.removeFirst(commandIds.count - threshold) }
        }
        return tripped
    }

    /// The provider gave a usable answer: the signatures are fine again.
    package mutating func recordUsableAnswer() {
        commandIds.removeAll(keepingCapacity: true)
    }
}
