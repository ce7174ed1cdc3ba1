import PayBridgeContract
import PaymentVocabulary
import Prometheus
import Synchronization

/// Enforces ``CallbackRateLimit`` on the callbacks listener: one token bucket per (client address, provider,
/// account), taken from before the body is read. A path naming no configured account shares one bucket per client
/// and provider, so made-up account names cannot mint buckets. Refusals count in
/// `paybridge_callbacks_rate_limited_total{provider,reason}` (reason = `account`: a configured account's bucket;
/// `unknown_account`: the shared one); neither the address nor the account name is a label.
///
/// The buckets live in a ``GenerationalTable`` of at most 2 × ``keysPerGeneration`` keys: a flood of source
/// addresses evicts the buckets not used for a while instead of growing memory. An evicted bucket comes back full,
/// which only costs its client one more burst.
final class CallbackRateLimiter: Sendable {
    struct Key: Hashable {
        var client: ClientAddress
        var provider: Provider
        /// `nil`: the path named no account this deployment has.
        var account: MerchantAccount?
    }

    /// What ``take(_:now:)`` decided.
    enum Decision: Equatable {
        case allowed
        /// Answer 429; the bucket has a token again after this many whole seconds (at least 1).
        case refused(retryAfterSeconds: Int)
    }

    /// Keys each generation of the table holds; at most twice this are tracked.
    static let defaultKeysPerGeneration = 10_000

    let limit: CallbackRateLimit
    let keysPerGeneration: Int
    private let buckets: Mutex<GenerationalTable<Key, TokenBucket>>
    private let refusedKnown: [Provider: Counter]
    private let refusedUnknown: [Provider: Counter]

    init(limit: CallbackRateLimit, metrics: PayBridgeMetrics,
         keysPerGeneration: Int = CallbackRateLimiter.defaultKeysPerGeneration) {
        self.limit = limit
        self.keysPerGeneration = keysPerGeneration
        buckets = Mutex(GenerationalTable(generationCapacity: keysPerGeneration))
        // Registered with zero for every provider and reason: the labels are known at start.
        func counters(_ reason: String) -> [Provider: Counter] {
            Dictionary(uniqueKeysWithValues: Provider.allCases.map { provider in
                (provider, metrics.registry.makeCounter(
                    descriptor: PayBridgeMetrics.callbacksRateLimited,
                    labels: [("provider", provider.rawValue), ("reason", reason)]))
            })
        }
        refusedKnown = counters("account")
        refusedUnknown = counters("unknown_account")
    }

    /// Takes a token from `key`'s bucket; a refusal is counted.
    func take(_ key: Key, now: ContinuousClock.Instant = .now) -> Decision {
        let decision = buckets.withLock { table in
            table.update(key, default: TokenBucket(tokens: Double(limit.burst), updated: now)) { bucket in
                bucket.take(limit: limit, now: now)
            }
        }
        if case .refused = decision {
            (key.account == nil ? refusedUnknown : refusedKnown)[key.provider]?.increment()
        }
        return decision
    }

    /// Keys tracked now (at most 2 × ``keysPerGeneration``).
    var trackedKeys: Int { buckets.withLock { $0.count } }
}

/// One key's tokens, refilled lazily when it is next used.
struct TokenBucket {
    var tokens: Double
    var updated: ContinuousClock.Instant

    mutating func take(limit: CallbackRateLimit, now: ContinuousClock.Instant) -> CallbackRateLimiter.Decision {
        let elapsed = max(Duration.zero, now - updated)
        tokens = min(Double(limit.burst), tokens + elapsed.inSeconds * limit.perSecond)
        updated = max(updated, now)
        if tokens >= 1 {
            tokens -= 1
            return .allowed
        }
        let wait = ((1 - tokens) / limit.perSecond).rounded(.up)
        return .refused(retryAfterSeconds: Int(min(max(wait, 1), 86_400)))
    }
}

/// A dictionary bounded by two generations: entries are written to the current one, and when it holds
/// `generationCapacity` keys it becomes the previous one, whose entries are dropped. An entry read from the
/// previous generation moves to the current one, so what is in use stays; what was not used during a whole
/// generation goes. At most 2 × `generationCapacity` keys; every operation O(1) amortised.
struct GenerationalTable<Key: Hashable, Value> {
    let generationCapacity: Int
    private var current: [Key: Value] = [:]
    private var previous: [Key: Value] = [:]

    init(generationCapacity: Int) {
        self.generationCapacity = max(1, generationCapacity)
    }

    /// Keys held (each is in one generation only).
    var count: Int { current.count + previous.count }

    /// Runs `body` on `key`'s value (`initial` when absent or evicted) and keeps the result in the current
    /// generation.
    mutating func update<Result>(_ key: Key, default initial: @autoclosure () -> Value,
                                 _ body: (inout Value) -> Result) -> Result {
        var value = current[key] ?? previous.removeValue(forKey: key) ?? initial()
        let result = body(&value)
        current[key] = value
        if current.count >= generationCapacity {
            previous = current
            current = [:]
        }
        return result
    }
}

extension Duration {
    /// This duration in seconds, fractions included.
    fileprivate var inSeconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
