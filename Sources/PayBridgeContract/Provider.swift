/// A payment provider PayBridge talks to. The raw value is the name used in routing keys, queue names and types.
public enum Provider: String, Sendable, Hashable, CaseIterable {
    case amanpay
    case firstpay

    /// The commands this provider accepts.
    public var commandKinds: [PaymentCommandKind] { PaymentCommandKind.allCases.filter { $0.provider == self } }
}
