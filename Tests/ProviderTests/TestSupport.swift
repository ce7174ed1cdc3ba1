import Amanpay
import FirstPay
import Foundation
import Hummingbird
import ServiceLifecycle
import Logging
import NIOCore
import ProviderCore
import ProviderSandbox
import StrictJSON
import Synchronization

/// `shared/providers/testdata`: `$PAYBRIDGE_PROVIDER_TESTDATA`, else `../shared/providers/testdata` from the
/// package root (CI clones `shared/` beside the repository).
let testdataDirectory: String = {
    if let env = ProcessInfo.processInfo.environment["PAYBRIDGE_PROVIDER_TESTDATA"] { return env }
    let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    let candidates = [
        packageRoot.appendingPathComponent("../shared/providers/testdata").standardized.path,
        packageRoot.appendingPathComponent("shared/providers/testdata").path,
        FileManager.default.currentDirectoryPath + "/../shared/providers/testdata",
        // A copy in the repository, for clones without shared/ beside them (shared/ is authoritative).
        packageRoot.appendingPathComponent("Tests/Fixtures/provider-testdata").path,
    ]
    return candidates.first { FileManager.default.fileExists(atPath: $0 + "/README.md") } ?? candidates[0]
}()

func testdata(_ name: String) throws -> String {
    try String(contentsOfFile: testdataDirectory + "/" + name, encoding: .utf8)
}

func testdataJSON(_ name: String) throws -> JSONValue {
    try JSONValue.parse(try testdata(name))
}

/// A clock that never sleeps: `sleep(for:)` records the duration and advances `now` instantly.
final class TestClock: RetryClock {
    private let state = Mutex<(now: Duration, sleeps: [Duration])>((.zero, []))

    func now() -> Duration { state.withLock { $0.now } }

    func sleep(for duration: Duration) async throws {
        state.withLock {
            $0.sleeps.append(duration)
            $0.now += duration
        }
    }

    func advance(by d: Duration) { state.withLock { $0.now += d } }

    var sleeps: [Duration] { state.withLock { $0.sleeps } }
}

/// Returns the given values in turn (the last one repeats).
final class SequenceRandom: RandomSource {
    private let values: [Double]
    private let index = Mutex(0)

    init(_ values: [Double]) { self.values = values }

    func nextUnit() -> Double {
        index.withLock { i in
            let v = values[min(i, values.count - 1)]
            i += 1
            return v
        }
    }
}

let quietLogger: Logger = {
    var l = Logger(label: "paybridge.tests")
    l.logLevel = .critical
    return l
}()

func sandboxConfiguration() throws -> ProviderSandboxConfiguration {
    var c = try ProviderSandboxConfiguration.testKeys(directory: testdataDirectory)
    c.callbackRetryDelay = .milliseconds(20)
    c.callbackMaxRetryDelay = .milliseconds(100)
    return c
}

func withSandbox<R: Sendable>(
    _ adjust: (inout ProviderSandboxConfiguration) -> Void = { _ in },
    _ body: (ProviderSandbox) async throws -> R
) async throws -> R {
    var c = try sandboxConfiguration()
    adjust(&c)
    return try await ProviderSandbox.withRunning(configuration: c, logger: quietLogger, body)
}

let fastRetry = RetryPolicy(
    maxAttempts: 4, baseDelay: .milliseconds(100), maxDelay: .seconds(1), maxTotalTime: .seconds(10))

func withAmanpay<R: Sendable>(
    _ sandbox: ProviderSandbox,
    secret: String = "s3cr3t",
    retry: RetryPolicy = fastRetry,
    requestTimeout: Duration = .seconds(5),
    clock: TestClock = TestClock(),
    random: any RandomSource = SequenceRandom([0.5]),
    circuit: CircuitBreakerConfiguration = .init(failureThreshold: 50),
    transport kind: TransportKind = .configured,
    _ body: (AmanpayClient) async throws -> R
) async throws -> R {
    let configuration = AmanpayConfiguration(
        baseURL: sandbox.baseURL, merchantId: 1_758_378, secretKey: Secret(secret),
        timeouts: .init(connect: .seconds(1), request: requestTimeout), retryPolicy: retry, circuitBreaker: circuit)
    // The worker's transport as the client makes it itself; the NIO client handed in.
    let transport = kind == .asyncHTTPClient ? nil : kind.make(timeouts: configuration.timeouts)
    let client = AmanpayClient(
        configuration: configuration, transport: transport, clock: clock, random: random, logger: quietLogger)
    do {
        let r = try await body(client)
        try await client.shutdown()
        try await transport?.shutdown()
        return r
    } catch {
        try? await client.shutdown()
        try? await transport?.shutdown()
        throw error
    }
}

func firstpayConfiguration(
    baseURL: String, retry: RetryPolicy = fastRetry, requestTimeout: Duration = .seconds(5),
    privateKeyFile: String = "merchant_private.pem"
) throws -> FirstPayConfiguration {
    FirstPayConfiguration(
        baseURL: baseURL, publicKeyPEM: try testdata("firstpay_public.pem"),
        merchantPrivateKeyPEM: Secret(try testdata(privateKeyFile)),
        timeouts: .init(connect: .seconds(1), request: requestTimeout), retryPolicy: retry,
        circuitBreaker: .init(failureThreshold: 50))
}

func withFirstPay<R: Sendable>(
    _ sandbox: ProviderSandbox,
    retry: RetryPolicy = fastRetry,
    requestTimeout: Duration = .seconds(5),
    privateKeyFile: String = "merchant_private.pem",
    publicKeyOverride: String? = nil,
    clock: TestClock = TestClock(),
    transport kind: TransportKind = .configured,
    _ body: (FirstPayClient) async throws -> R
) async throws -> R {
    var configuration = try firstpayConfiguration(
        baseURL: sandbox.baseURL, retry: retry, requestTimeout: requestTimeout, privateKeyFile: privateKeyFile)
    if let publicKeyOverride { configuration.publicKeyPEM = publicKeyOverride }
    let transport = kind == .asyncHTTPClient ? nil : kind.make(timeouts: configuration.timeouts)
    let client = try FirstPayClient(
        configuration: configuration, transport: transport, clock: clock, random: SequenceRandom([0.5]),
        logger: quietLogger)
    do {
        let r = try await body(client)
        try await client.shutdown()
        try await transport?.shutdown()
        return r
    } catch {
        try? await client.shutdown()
        try? await transport?.shutdown()
        throw error
    }
}

/// A merchant endpoint for callbacks/postbacks: answers 500 to the first `failFirst` requests, then 200,
/// and hands every request to the test through an `AsyncStream` (no sleeping).
struct CallbackReceiver: Sendable {
    struct Received: Sendable {
        var body: [UInt8]
        var authorization: String?
    }

    let url: String
    let received: AsyncStream<Received>

    static func with<R: Sendable>(failFirst: Int = 0, _ body: (CallbackReceiver) async throws -> R) async throws -> R {
        let (stream, sink) = AsyncStream<Received>.makeStream()
        let (started, startedSink) = AsyncStream<Int>.makeStream()
        let count = Mutex(0)
        let router = Router()
        router.post("/cb") { request, _ -> Response in
            var request = request
            let buffer = try await request.collectBody(upTo: 1 << 20)
            sink.yield(Received(body: Array(buffer.readableBytesView), authorization: request.headers[.authorization]))
            let n = count.withLock { c in
                c += 1
                return c
            }
            return Response(status: n <= failFirst ? .internalServerError : .ok)
        }
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                startedSink.yield(channel.localAddress?.port ?? 0)
                startedSink.finish()
            }, logger: quietLogger)
        // Stopped gracefully, not cancelled: cancelling a Hummingbird server while a connection is accepted but not
        // yet served traps in NIO (apple/swift-nio#3481).
        var groupConfiguration = ServiceGroupConfiguration(
            services: [.init(service: app)], gracefulShutdownSignals: [], logger: quietLogger)
        groupConfiguration.maximumGracefulShutdownDuration = .seconds(1)
        let serviceGroup = ServiceGroup(configuration: groupConfiguration)
        return try await withThrowingTaskGroup(of: Void.self, returning: R.self) { group in
            group.addTask { try await serviceGroup.run() }
            var it = started.makeAsyncIterator()
            let port = await it.next() ?? 0
            let receiver = CallbackReceiver(url: "http://127.0.0.1:\(port)/cb", received: stream)
            let result: Result<R, any Error>
            do {
                result = .success(try await body(receiver))
            } catch {
                result = .failure(error)
            }
            await serviceGroup.triggerGracefulShutdown()
            try await group.waitForAll()
            return try result.get()
        }
    }

    /// The next `n` received requests.
    func next(_ n: Int) async -> [Received] {
        var out: [Received] = []
        for await r in received {
            out.append(r)
            if out.count == n { break }
        }
        return out
    }
}
