import PaymentVocabulary
import Synchronization

/// Settings of a ``CircuitBreaker``.
public struct CircuitBreakerConfiguration: Sendable, Hashable {
    /// Consecutive transient or configuration failures that open the circuit. Default 5.
    public var failureThreshold: Int
    /// How long the circuit stays open before one probe is let through. Default 30 s.
    public var openDuration: Duration

    public init(failureThreshold: Int = 5, openDuration: Duration = .seconds(30)) {
        precondition(failureThreshold >= 1, "failureThreshold must be at least 1")
        self.failureThreshold = failureThreshold
        self.openDuration = openDuration
    }
}

/// The observable state of a breaker.
public enum CircuitState: String, Sendable, Hashable {
    case closed
    case open
    case halfOpen = "half_open"
}

/// A per-provider circuit breaker: opens after `failureThreshold` consecutive transient or configuration
/// failures, refuses calls while open, then half-opens and lets exactly one probe through; the probe's
/// outcome closes or re-opens it. Declines, invalid requests and lookups prove the provider is answering
/// and count as successes.
public final class CircuitBreaker: Sendable {
    enum State: Sendable, Equatable {
        case closed(consecutiveFailures: Int)
        case open(until: Duration)
        case halfOpen(probeInFlight: Bool)
    }

    public let configuration: CircuitBreakerConfiguration
    private let clock: any RetryClock
    private let state: Mutex<State>

    public init(configuration: CircuitBreakerConfiguration = .init(), clock: any RetryClock = SystemRetryClock()) {
        self.configuration = configuration
        self.clock = clock
        self.state = Mutex(.closed(consecutiveFailures: 0))
    }

    /// The current state (an open circuit whose time is up reports `halfOpen`).
    public var currentState: CircuitState {
        let now = clock.now()
        return state.withLock { s in
            switch s {
            case .closed: return .closed
            case .open(let until): return now >= until ? .halfOpen : .open
            case .halfOpen: return .halfOpen
            }
        }
    }

    /// Asks to make a call. `false` means the circuit is open (or a probe is already in flight).
    public func acquire() -> Bool {
        let now = clock.now()
        return state.withLock { s in
            switch s {
            case .closed:
                return true
            case .open(let until):
                guard now >= until else { return false }
                s = .halfOpen(probeInFlight: true)
                return true
            case .halfOpen(let probeInFlight):
                if probeInFlight { return false }
                s = .halfOpen(probeInFlight: true)
                return true
            }
        }
    }

    /// Records the outcome of a call that ``acquire()`` allowed.
    /// - Parameter failureClass: `nil` for a success; a transient or configuration class counts as a failure,
    ///   any other class as a success (the provider answered).
    public func record(_ failureClass: ErrorClass?) {
        let counts = failureClass == .transient || failureClass == .configuration
        let now = clock.now()
        let threshold = configuration.failureThreshold
        let openDuration = configuration.openDuration
        state.withLock { s in
            guard counts else {
                s = .closed(consecutiveFailures: 0)
                return
            }
            switch s {
            case .closed(let n):
                s = n + 1 >= threshold ? .open(until: now + openDuration) : .closed(consecutiveFailures: n + 1)
            case .halfOpen:
                s = .open(until: now + openDuration)
            case .open:
                break
            }
        }
    }

    /// Releases an allowed call that ended without an outcome (cancellation), so a half-open breaker can
    /// send another probe.
    public func release() {
        state.withLock { s in
            if case .halfOpen(true) = s { s = .halfOpen(probeInFlight: false) }
        }
    }
}
