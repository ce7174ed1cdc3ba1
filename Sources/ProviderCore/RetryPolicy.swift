/// Exponential backoff with full jitter, capped per delay, in attempts and in total time.
///
/// Retry `n` (1-based: the wait before the second attempt is retry 1) waits a uniformly random
/// duration in `[0, min(maxDelay, baseDelay * multiplier^(n-1)))` ("full jitter"). A provider's
/// `Retry-After` replaces the random delay.
public struct RetryPolicy: Sendable, Hashable {
    /// Attempts in all, the first included. Default 4.
    public var maxAttempts: Int
    /// Backoff ceiling for the first retry. Default 200 ms.
    public var baseDelay: Duration
    /// Cap on any single delay (also applied to `Retry-After`). Default 5 s.
    public var maxDelay: Duration
    /// No new attempt starts when it would begin later than this after the first one. Default 30 s.
    public var maxTotalTime: Duration
    /// Growth factor of the ceiling. Default 2.
    public var multiplier: Double

    public init(
        maxAttempts: Int = 4,
        baseDelay: Duration = .milliseconds(200),
        maxDelay: Duration = .seconds(5),
        maxTotalTime: Duration = .seconds(30),
        multiplier: Double = 2
    ) {
        precondition(maxAttempts >= 1, "maxAttempts must be at least 1")
        self.maxAttempts = maxAttempts
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.maxTotalTime = maxTotalTime
        self.multiplier = multiplier
    }

    /// One attempt, no retries.
    public static let none = RetryPolicy(maxAttempts: 1)

    /// The jitter ceiling before retry `retry` (1-based).
    public func ceiling(forRetry retry: Int) -> Duration {
        let factor = pow(multiplier, Double(max(retry - 1, 0)))
        let ceilingSeconds = min(baseDelay.seconds * factor, maxDelay.seconds)
        return .nanoseconds(Int64((ceilingSeconds * 1e9).rounded(.down)))
    }

    /// The delay before retry `retry` for a random `unit` in `[0, 1)`: `unit * ceiling`, truncated to
    /// whole nanoseconds.
    public func delay(forRetry retry: Int, unit: Double) -> Duration {
        let ceiling = ceiling(forRetry: retry)
        let nanos = Double(ceiling.nanosecondsTotal) * min(max(unit, 0), 1)
        return .nanoseconds(Int64(nanos.rounded(.down)))
    }
}

extension Duration {
    /// The duration in seconds as a Double (for arithmetic on backoff ceilings only).
    var seconds: Double {
        let c = components
        return Double(c.seconds) + Double(c.attoseconds) / 1e18
    }

    /// Whole nanoseconds (saturating for absurdly long durations).
    var nanosecondsTotal: Int64 {
        let c = components
        let (s, overflow) = c.seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return .max }
        return s + c.attoseconds / 1_000_000_000
    }
}

private func pow(_ base: Double, _ exponent: Double) -> Double {
    // Integer exponents only (attempt numbers); avoids importing Foundation for one call.
    var result = 1.0
    var n = Int(exponent)
    while n > 0 {
        result *= base
        n -= 1
    }
    return result
}

/// A monotonic clock the retry loop and the circuit breaker read and sleep on. Tests inject one that
/// records the requested sleeps and advances instantly, so schedules are checked without sleeping.
public protocol RetryClock: Sendable {
    /// Time elapsed since an arbitrary fixed origin.
    func now() -> Duration
    /// Suspends for `duration` (honouring task cancellation).
    func sleep(for duration: Duration) async throws
}

/// The real clock (`ContinuousClock`).
public struct SystemRetryClock: RetryClock {
    private let origin: ContinuousClock.Instant

    public init() { self.origin = ContinuousClock.now }

    public func now() -> Duration { ContinuousClock.now - origin }

    public func sleep(for duration: Duration) async throws {
        try await Task.sleep(for: duration)
    }
}

/// A source of uniform random numbers in `[0, 1)` for jitter. Tests inject a fixed sequence.
public protocol RandomSource: Sendable {
    func nextUnit() -> Double
}

/// `Double.random(in: 0..<1)` with the system generator.
public struct SystemRandomSource: RandomSource {
    public init() {}
    public func nextUnit() -> Double { Double.random(in: 0..<1) }
}
