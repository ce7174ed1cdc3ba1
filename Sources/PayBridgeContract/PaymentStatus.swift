/// PayBridge's unified payment status, carried in every outcome event's `data.status`.
public enum PaymentStatus: String, Sendable, Hashable, CaseIterable {
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
    /// PayBridge could not learn the state (ambiguous create, status lookups failing). Never read as failed.
    case unknown
}
