import PaymentVocabulary

extension Provider {
    /// The commands this provider accepts.
    public var commandKinds: [PaymentCommandKind] { PaymentCommandKind.allCases.filter { $0.provider == self } }
}
