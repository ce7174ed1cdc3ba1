/// The provider-neutral status PayBridge publishes (amanpay.md §8, firstpay.md §8).
public enum PaymentStatus: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case processing
    case requiresAction = "requires_action"
    case underReview = "under_review"
    case succeeded
    case failed
    case cancelled
    /// The outcome could not be established (an ambiguous create whose status stayed unreadable).
    /// Never a failure: the payment may exist.
    case unknown

    /// `true` for succeeded, failed and cancelled. FirstPay can still correct a final status by a
    /// later postback (firstpay.md §6); Amanpay never changes one (amanpay.md §4).
    public var isFinal: Bool {
        switch self {
        case .succeeded, .failed, .cancelled: return true
        case .processing, .requiresAction, .underReview, .unknown: return false
        }
    }

    public var description: String { rawValue }
}
