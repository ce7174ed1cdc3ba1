import PaymentVocabulary

/// Runs provider calls with the retry policy, the circuit breaker and the status-first rule for creates.
public struct RetryRunner: Sendable {
    /// `amanpay` or `firstpay` (for errors).
    public var provider: Provider
    public var policy: RetryPolicy
    public var clock: any RetryClock
    public var random: any RandomSource
    /// Shared by all calls to one provider; `nil` disables it.
    public var breaker: CircuitBreaker?

    public init(
        provider: Provider,
        policy: RetryPolicy = .init(),
        clock: any RetryClock = SystemRetryClock(),
        random: any RandomSource = SystemRandomSource(),
        breaker: CircuitBreaker? = nil
    ) {
        self.provider = provider
        self.policy = policy
        self.clock = clock
        self.random = random
        self.breaker = breaker
    }

    /// Runs `body` (given the 1-based attempt number), retrying transient ``ProviderError``s.
    /// Other errors are thrown at once. For reads and other calls that are safe to repeat.
    public func run<T: Sendable>(
        operation: String,
        _ body: (Int) async throws -> T
    ) async throws -> T {
        let start = clock.now()
        var attempt = 1
        while true {
            do {
                return try await guarded(operation: operation) { try await body(attempt) }
            } catch var error as ProviderError {
                error.attempts = attempt
                guard error.errorClass == .transient, !error.isCircuitOpen,
                    let delay = nextDelay(after: attempt, error: error, start: start)
                else { throw error }
                try await clock.sleep(for: delay)
                attempt += 1
            }
        }
    }

    /// Runs a create (purchase, payout, pay_in, pay_out) so that it is never blindly re-sent (A5, F8).
    ///
    /// After a failure that may have reached the provider, `lookup` reads the status by the merchant's
    /// payment id first: a found payment is returned as the result; `nil` (the provider says it does not
    /// exist) makes a re-send safe. When attempts or time run out while the outcome is still open, the
    /// result has status `unknown` and an error of class `ambiguous`: never `failed`.
    ///
    /// This is PayBridge's one status-first rule. With `readStatusFirst` (a command that may have been executed
    /// before: a redelivery, a retry, an id seen before) the status is read before the first send too; if that read
    /// cannot be made, the error is thrown (nothing was sent here, so the outcome is not open: the caller retries).
    /// - Parameters:
    ///   - readStatusFirst: read the status before the first send.
    ///   - unknownResult: builds the `unknown` result from the last error.
    ///   - send: one create request.
    ///   - lookup: one status read; returns `nil` when the provider says the payment does not exist.
    public func runCreate(
        operation: String,
        readStatusFirst: Bool = false,
        unknownResult: (ProviderError) -> ProviderResult,
        send: (Int) async throws -> ProviderResult,
        lookup: () async throws -> ProviderResult?
    ) async throws -> ProviderResult {
        let start = clock.now()
        var attempt = 1
        // The provider may know this payment (a send may have reached it, or the caller said it may have been
        // created before) and no lookup has settled it since.
        var outcomeOpen = readStatusFirst
        // A send of this call may have reached the provider: only then is an unsettled outcome `unknown`.
        var sentHere = false
        while true {
            var failure: ProviderError
            do {
                if outcomeOpen {
                    // A5 / F8: read the status by merchant payment id before any re-send.
                    if let existing = try await guarded(operation: "status", lookup) {
                        return existing
                    }
                    outcomeOpen = false
                }
                sentHere = true
                return try await guarded(operation: operation) { try await send(attempt) }
            } catch let error as ProviderError {
                failure = error
                failure.attempts = attempt
                if error.errorClass != .transient || error.isCircuitOpen {
                    if outcomeOpen && sentHere { return unknownResult(failure) }
                    throw failure
                }
                if error.mayHaveReachedProvider { outcomeOpen = true }
            }
            guard let delay = nextDelay(after: attempt, error: failure, start: start) else {
                if outcomeOpen && sentHere { return unknownResult(failure) }
                throw failure
            }
            try await clock.sleep(for: delay)
            attempt += 1
        }
    }

    /// The delay before the next attempt, or `nil` when attempts or total time are used up.
    func nextDelay(after attempt: Int, error: ProviderError, start: Duration) -> Duration? {
        guard attempt < policy.maxAttempts else { return nil }
        let delay: Duration
        if let retryAfter = error.retryAfter {
            delay = min(retryAfter, policy.maxDelay)
        } else {
            delay = policy.delay(forRetry: attempt, unit: random.nextUnit())
        }
        guard clock.now() - start + delay <= policy.maxTotalTime else { return nil }
        return delay
    }

    /// One call through the circuit breaker.
    func guarded<T>(operation: String, _ body: () async throws -> T) async throws -> T {
        guard let breaker else { return try await body() }
        guard breaker.acquire() else {
            throw ProviderError(
                provider: provider, operation: operation, errorClass: .transient, code: .circuitOpen,
                message: "circuit breaker open: calls to \(provider) are paused")
        }
        do {
            let value = try await body()
            breaker.record(nil)
            return value
        } catch let error as ProviderError {
            breaker.record(error.errorClass)
            throw error
        } catch {
            breaker.release()
            throw error
        }
    }
}
