/// A payment provider PayBridge talks to. The raw value is the name used in routing keys, queue names, event types,
/// logs and metrics.
public enum Provider: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case amanpay
    case firstpay

    public var description: String { rawValue }
}
