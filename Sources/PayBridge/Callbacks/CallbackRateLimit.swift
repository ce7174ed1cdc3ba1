/// How many callbacks the callbacks listener accepts per (client address, provider, account) before it answers
/// 429: a token bucket of ``burst`` tokens refilled at ``perSecond``, one token a request (a replayed
/// callback must not become unlimited notifications, queue writes, status reads and events).
public struct CallbackRateLimit: Sendable, Equatable {
    /// `PAYBRIDGE_CALLBACK_RATE_LIMIT`: tokens added per second; 0 turns the limit off.
    public var perSecond: Double
    /// `PAYBRIDGE_CALLBACK_RATE_BURST`: the bucket's size, what a source may send at once after a quiet spell.
    public var burst: Int

    public init(perSecond: Double, burst: Int) {
        self.perSecond = perSecond
        self.burst = burst
    }

    /// 20 per second, bursts of 40.
    public static let `default` = CallbackRateLimit(perSecond: 20, burst: 40)

    /// `false` when `PAYBRIDGE_CALLBACK_RATE_LIMIT` is 0.
    public var isOn: Bool { perSecond > 0 }
}

extension EnvironmentSettings {
    /// `PAYBRIDGE_CALLBACK_RATE_LIMIT` (0…100000, default 20) and `PAYBRIDGE_CALLBACK_RATE_BURST` (1…1000000,
    /// default twice the limit, at least 1).
    func callbackRateLimit() throws(ConfigurationError) -> CallbackRateLimit {
        let perSecond = try integer("PAYBRIDGE_CALLBACK_RATE_LIMIT", in: 0...100_000)
            ?? Int(CallbackRateLimit.default.perSecond)
        let burst = try integer("PAYBRIDGE_CALLBACK_RATE_BURST", in: 1...1_000_000) ?? max(1, 2 * perSecond)
        return CallbackRateLimit(perSecond: Double(perSecond), burst: burst)
    }
}
