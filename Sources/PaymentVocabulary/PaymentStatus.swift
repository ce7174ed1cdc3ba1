/// PayBridge's one provider-neutral payment status: what the provider clients report and what every outcome
/// event carries in `data.status` (amanpay.md §8, firstpay.md §8).
public enum PaymentStatus: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// In progress at the provider (Amanpay PENDING, FirstPay PENDING).
    case processing
    /// The customer or merchant must act: redirect, OTP (Amanpay REDIRECT, SPECIFICATION).
    case requiresAction = "requires_action"
    /// The provider checks it manually (FirstPay NEED_CHECK).
    case underReview = "under_review"
    /// Paid (may still be corrected by a later FirstPay postback).
    case succeeded
    /// Failed or declined.
    case failed
    /// Cancelled (Amanpay CANCELLED).
    case cancelled
    /// The outcome could not be established (an ambiguous create, status lookups failing). Never read as
    /// failed: the payment may exist.
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
