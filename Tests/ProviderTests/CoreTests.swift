import PaymentVocabulary
import ProviderCore
import StrictJSON
import Testing

@Suite("ProviderCore")
struct CoreTests {
    @Test(arguments: [
        ("250.5", "250.50", "250.5"), ("250.50", "250.50", "250.5"), ("0.01", "0.01", "0.01"),
        ("1000000.00", "1000000.00", "1000000"), ("250", "250.00", "250"), ("007.10", "7.10", "7.1"),
    ])
    func decimalAmountsKeepExactText(input: String, two: String, minimal: String) throws {
        let a = try #require(DecimalAmount(input))
        #expect(a.text == input)
        #expect(a.twoDecimalText == two)
        #expect(a.minimalText == minimal)
        #expect(a == DecimalAmount(two))
    }

    @Test func decimalAmountsRejectNonNumbersAndNeverRound() {
        for bad in ["", "1.", ".5", "1,5", "+1", "1 ", "abc", "1e", "--1"] {
            #expect(DecimalAmount(bad) == nil, "\(bad)")
        }
        #expect(DecimalAmount("1.005")?.twoDecimalText == nil)
        #expect(DecimalAmount("1e3")?.minimalText == "1000")
        #expect(DecimalAmount("2.5e-1")?.minimalText == "0.25")
    }

    @Test func jsonKeepsNumberTextAndOrder() throws {
        let text = #"{"b":250.50,"a":[1,2.0,-0.5e3],"s":"x\"y\n\u00e9\ud83d\ude00","n":null,"t":true}"#
        let v = try JSONValue.parse(text)
        #expect(v["b"] == .number(JSONNumber(trusted: "250.50")))
        #expect(v["s"]?.stringValue == "x\"y\né😀")
        #expect(v.objectMembers?.map(\.key) == ["b", "a", "s", "n", "t"])
        let again = try JSONValue.parse(v.compactText)
        #expect(again == v)
        for bad in ["{", "[1,]", "{\"a\":}", "01", "1.", "\"abc", "{} x", "nul"] {
            #expect(throws: JSONParseError.self) { try JSONValue.parse(bad) }
        }
    }

    @Test func unifiedStatusFinality() {
        #expect(PaymentStatus.succeeded.isFinal && PaymentStatus.failed.isFinal && PaymentStatus.cancelled.isFinal)
        #expect(!PaymentStatus.processing.isFinal && !PaymentStatus.requiresAction.isFinal)
        #expect(!PaymentStatus.underReview.isFinal && !PaymentStatus.unknown.isFinal)
        #expect(PaymentStatus.requiresAction.rawValue == "requires_action")
    }

    @Test func secretsAndAccountNumbersStayOutOfText() {
        let s: Secret = "s3cr3t"
        #expect("\(s)" == "<redacted>")
        #expect(String(reflecting: s) == "Secret(<redacted>)")
        var dumped = ""
        dump(s, to: &dumped)
        #expect(!dumped.contains("s3cr3t"))
        #expect(Masking.accountNumber("01712345678") == "*******5678")
        #expect(Masking.accountNumber("123") == "***")
        let e = ProviderError(
            provider: .amanpay, operation: "purchase", errorClass: .configuration, code: .init(rawValue: "INVALID_API_KEY"),
            message: "key invalid", httpStatus: 401, rawBody: "{}")
        #expect(e.description == "amanpay purchase failed: INVALID_API_KEY (configuration), HTTP 401")
    }

    @Test func fullJitterDelaysAreCappedPerRetry() {
        let p = RetryPolicy(maxAttempts: 10, baseDelay: .milliseconds(100), maxDelay: .milliseconds(500))
        #expect(p.ceiling(forRetry: 1) == .milliseconds(100))
        #expect(p.ceiling(forRetry: 2) == .milliseconds(200))
        #expect(p.ceiling(forRetry: 3) == .milliseconds(400))
        #expect(p.ceiling(forRetry: 4) == .milliseconds(500))
        #expect(p.ceiling(forRetry: 9) == .milliseconds(500))
        #expect(p.delay(forRetry: 2, unit: 0.5) == .milliseconds(100))
        #expect(p.delay(forRetry: 3, unit: 0) == .zero)
        #expect(p.delay(forRetry: 1, unit: 0.999) == .microseconds(99_900))
    }

    static func transient(_ reached: Bool = true) -> ProviderError {
        ProviderError(
            provider: .amanpay, operation: "op", errorClass: .transient, code: .init(rawValue: "HTTP_503"), message: "",
            mayHaveReachedProvider: reached)
    }

    @Test func retryScheduleIsExactWithAnInjectedClock() async throws {
        let clock = TestClock()
        let runner = RetryRunner(
            provider: .amanpay,
            policy: RetryPolicy(maxAttempts: 5, baseDelay: .milliseconds(100), maxDelay: .seconds(1), maxTotalTime: .seconds(60)),
            clock: clock, random: SequenceRandom([0.5, 0.25, 1.0, 0.75]))
        let attempts = Mutex(0)
        let value = try await runner.run(operation: "op") { attempt -> Int in
            attempts.withLock { $0 = attempt }
            if attempt < 5 { throw Self.transient() }
            return 42
        }
        #expect(value == 42)
        #expect(attempts.withLock { $0 } == 5)
        // Ceilings 100, 200, 400, 800 ms times 0.5, 0.25, 1.0, 0.75.
        #expect(clock.sleeps == [.milliseconds(50), .milliseconds(50), .milliseconds(400), .milliseconds(600)])
    }

    @Test func retriesStopAtMaxAttemptsAndTotalTimeAndHonourRetryAfter() async throws {
        let clock = TestClock()
        let runner = RetryRunner(
            provider: .amanpay,
            policy: RetryPolicy(maxAttempts: 10, baseDelay: .seconds(1), maxDelay: .seconds(4), maxTotalTime: .seconds(6)),
            clock: clock, random: SequenceRandom([1.0]))
        await #expect(throws: ProviderError.self) {
            try await runner.run(operation: "op") { _ -> Int in throw Self.transient() }
        }
        // 1 + 2 = 3 s; the next (4 s) would end past 6 s.
        #expect(clock.sleeps == [.seconds(1), .seconds(2)])

        let clock2 = TestClock()
        let runner2 = RetryRunner(
            provider: .amanpay, policy: RetryPolicy(maxAttempts: 3, maxDelay: .seconds(10)), clock: clock2,
            random: SequenceRandom([0]))
        var limited = Self.transient(false)
        limited.retryAfter = .seconds(7)
        await #expect(throws: ProviderError.self) {
            try await runner2.run(operation: "op") { _ -> Int in throw limited }
        }
        #expect(clock2.sleeps == [.seconds(7), .seconds(7)])
    }

    @Test func nonTransientErrorsAreNotRetried() async throws {
        let clock = TestClock()
        let runner = RetryRunner(provider: .amanpay, clock: clock)
        let error = await #expect(throws: ProviderError.self) {
            try await runner.run(operation: "op") { _ -> Int in
                throw ProviderError(provider: .amanpay, operation: "op", errorClass: .configuration, code: .init(rawValue: "K"), message: "")
            }
        }
        #expect(error?.errorClass == .configuration)
        #expect(clock.sleeps.isEmpty)
    }

    @Test func createReadsStatusBeforeResendingAndReportsUnknown() async throws {
        let clock = TestClock()
        let runner = RetryRunner(
            provider: .amanpay, policy: RetryPolicy(maxAttempts: 3), clock: clock, random: SequenceRandom([0]))
        let log = Mutex<[String]>([])
        func unknown(_ e: ProviderError) -> ProviderResult {
            ProviderResult(provider: .amanpay, operation: "create", status: .unknown,
                error: OutcomeError(code: e.code.rawValue, message: "", errorClass: .unknown))
        }
        // Send times out; the lookup says "not found"; the re-send succeeds.
        let ok = try await runner.runCreate(
            operation: "create", unknownResult: unknown,
            send: { attempt in
                log.withLock { $0.append("send\(attempt)") }
                if attempt == 1 { throw Self.transient() }
                return ProviderResult(provider: .amanpay, operation: "create", status: .processing)
            },
            lookup: {
                log.withLock { $0.append("lookup") }
                return nil
            })
        #expect(ok.status == .processing)
        #expect(log.withLock { $0 } == ["send1", "lookup", "send2"])

        // Send times out and every lookup fails too: unknown, never failed.
        log.withLock { $0.removeAll() }
        let open = try await runner.runCreate(
            operation: "create", unknownResult: unknown,
            send: { attempt in
                log.withLock { $0.append("send\(attempt)") }
                throw Self.transient()
            },
            lookup: {
                log.withLock { $0.append("lookup") }
                throw Self.transient()
            })
        #expect(open.status == .unknown)
        #expect(open.error?.errorClass == .unknown)
        #expect(log.withLock { $0 } == ["send1", "lookup", "lookup"])

        // A refused connection never reached the provider: no lookup, and exhaustion is an error.
        log.withLock { $0.removeAll() }
        await #expect(throws: ProviderError.self) {
            try await runner.runCreate(
                operation: "create", unknownResult: unknown,
                send: { attempt in
                    log.withLock { $0.append("send\(attempt)") }
                    throw Self.transient(false)
                },
                lookup: {
                    log.withLock { $0.append("lookup") }
                    return nil
                })
        }
        #expect(log.withLock { $0 } == ["send1", "send2", "send3"])
    }

    @Test func circuitOpensAfterFailuresAndHalfOpensWithOneProbe() {
        let clock = TestClock()
        let breaker = CircuitBreaker(configuration: .init(failureThreshold: 3, openDuration: .seconds(30)), clock: clock)
        for _ in 0..<2 {
            #expect(breaker.acquire())
            breaker.record(.transient)
        }
        #expect(breaker.currentState == .closed)
        #expect(breaker.acquire())
        breaker.record(.configuration)
        #expect(breaker.currentState == .open)
        #expect(!breaker.acquire())
        clock.advance(by: .seconds(30))
        #expect(breaker.currentState == .halfOpen)
        #expect(breaker.acquire())  // the probe
        #expect(!breaker.acquire())  // only one
        breaker.record(.transient)
        #expect(breaker.currentState == .open)
        clock.advance(by: .seconds(30))
        #expect(breaker.acquire())
        breaker.record(.declined)  // the provider answered
        #expect(breaker.currentState == .closed)
        #expect(breaker.acquire())
    }

    @Test func openCircuitRefusesWithoutCalling() async throws {
        let clock = TestClock()
        let breaker = CircuitBreaker(configuration: .init(failureThreshold: 1), clock: clock)
        let runner = RetryRunner(provider: .amanpay, policy: RetryPolicy(maxAttempts: 5), clock: clock, breaker: breaker)
        let calls = Mutex(0)
        let error = await #expect(throws: ProviderError.self) {
            try await runner.run(operation: "op") { _ -> Int in
                calls.withLock { $0 += 1 }
                throw Self.transient()
            }
        }
        #expect(error?.isCircuitOpen == true)
        #expect(calls.withLock { $0 } == 1)
    }
}

import Synchronization
