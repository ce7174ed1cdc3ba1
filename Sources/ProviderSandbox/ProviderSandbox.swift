import Amanpay
import AsyncHTTPClient
import FirstPay
import Foundation
import Hummingbird
public import Logging
import NIOCore
import ProviderCore
public import ServiceLifecycle
import Synchronization

/// A server that speaks Amanpay's and FirstPay's protocols (amanpay.md, firstpay.md, pinned rules A1–A8,
/// F1–F8), for tests, the demo and benchmarks. Payments live in memory; callbacks and postbacks are signed and
/// retried until the target answers 2xx/200; faults are scripted with ``SandboxFault`` rules.
///
/// Start it in-process with ``withRunning(configuration:logger:_:)`` (tests), or run it as a `Service` in a
/// `ServiceGroup` (graceful shutdown supported), or call ``run(onStarted:)`` and cancel the task to stop it.
public final class ProviderSandbox: Service, Sendable {
    public let configuration: ProviderSandboxConfiguration
    let logger: Logger
    let state: Mutex<SandboxState>
    let boundPort: Mutex<Int?>
    let jobs: AsyncStream<SandboxJob>
    let jobSink: AsyncStream<SandboxJob>.Continuation
    let postbackSigner: FirstPaySigner
    let requestVerifier: FirstPayVerifier
    /// The signer and verifier of each FirstPay merchant, by the `publicKey` its requests carry (the default
    /// merchant's included).
    let firstpayMerchantKeys: [String: (signer: FirstPaySigner, verifier: FirstPayVerifier)]
    /// First group of this instance's FirstPay ids, so two sandbox runs never hand out the same id.
    let instancePrefix: String
    let onStarted: @Sendable (Int) async -> Void

    /// - Parameters:
    ///   - onStarted: called with the bound port each time the server starts listening (used by ``run()``).
    /// - Throws: when a configured key is not a readable RSA PEM.
    public init(
        configuration: ProviderSandboxConfiguration,
        logger: Logger = Logger(label: "paybridge.sandbox"),
        onStarted: @escaping @Sendable (Int) async -> Void = { _ in }
    ) throws {
        self.configuration = configuration
        self.onStarted = onStarted
        self.logger = logger
        var initial = SandboxState()
        initial.amanpayCallbackURL = configuration.amanpayCallbackURL
        initial.firstpayPostbackURL = configuration.firstpayPostbackURL
        self.state = Mutex(initial)
        self.boundPort = Mutex(nil)
        (self.jobs, self.jobSink) = AsyncStream<SandboxJob>.makeStream()
        self.postbackSigner = try FirstPaySigner(privateKeyPEM: configuration.firstpayPrivateKeyPEM)
        self.requestVerifier = try FirstPayVerifier(publicKeyPEM: configuration.merchantPublicKeyPEM)
        var keys = [configuration.firstpayPublicKeyPEM: (signer: postbackSigner, verifier: requestVerifier)]
        for merchant in configuration.firstpayMerchants {
            keys[merchant.publicKeyPEM] = (try FirstPaySigner(privateKeyPEM: merchant.privateKeyPEM),
                                           try FirstPayVerifier(publicKeyPEM: merchant.merchantPublicKeyPEM))
        }
        self.firstpayMerchantKeys = keys
        let r = UInt32.random(in: 0...UInt32.max)
        let hex = String(r, radix: 16)
        self.instancePrefix = String(repeating: "0", count: 8 - hex.count) + hex
    }

    /// The bound port once running.
    public var port: Int? { boundPort.withLock { $0 } }

    /// `http://127.0.0.1:<port>` once running.
    public var baseURL: String { "http://\(configuration.host):\(port ?? configuration.port)" }

    /// `Service`: runs until graceful shutdown (inside a `ServiceGroup`) or cancellation.
    public func run() async throws {
        try await run(onStarted: onStarted)
    }

    /// Runs the HTTP server and the callback sender until graceful shutdown or cancellation.
    /// - Parameter onStarted: called once with the bound port.
    public func run(onStarted: @escaping @Sendable (Int) async -> Void) async throws {
        let router = Router()
        addAmanpayRoutes(to: router)
        addFirstPayRoutes(to: router)
        addControlRoutes(to: router)
        let app = Application(
            router: router,
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), backlog: 1024),
            onServerRunning: { [self] channel in
                let port = channel.localAddress?.port ?? configuration.port
                boundPort.withLock { $0 = port }
                await onStarted(port)
            },
            logger: logger)
        var clientConfiguration = HTTPClient.Configuration()
        clientConfiguration.timeout = .init(connect: .seconds(2), read: .seconds(10))
        // Callbacks to one merchant host run in parallel; AsyncHTTPClient's default of 8 connections per host would
        // make the sandbox the bottleneck of a benchmark.
        clientConfiguration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 128)
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: clientConfiguration)
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                // Application.run() follows the surrounding ServiceGroup's graceful shutdown, if any.
                group.addTask { try await app.run() }
                group.addTask { await self.runJobs(client: client) }  // ends when the server has stopped
                _ = try await group.next()
                group.cancelAll()
            }
        } catch {
            try? await client.shutdown()
            throw error
        }
        try await client.shutdown()
    }

    /// Starts a sandbox, runs `body` with it, then stops it.
    public static func withRunning<R: Sendable>(
        configuration: ProviderSandboxConfiguration,
        logger: Logger = Logger(label: "paybridge.sandbox"),
        _ body: (ProviderSandbox) async throws -> R
    ) async throws -> R {
        let sandbox = try ProviderSandbox(configuration: configuration, logger: logger)
        let (started, startedSink) = AsyncStream<Int>.makeStream()
        // Stopped by a graceful shutdown, never by cancelling the server task: cancelling it while a connection is
        // accepted but not yet served traps in NIO ("Deinited NIOAsyncWriter without calling finish()",
        // apple/swift-nio#3481).
        let service = SandboxService(sandbox: sandbox, started: startedSink)
        // A request still held by a latency fault after 1 s is cancelled: by then the server no longer accepts.
        var groupConfiguration = ServiceGroupConfiguration(
            services: [.init(service: service)], gracefulShutdownSignals: [], logger: logger)
        groupConfiguration.maximumGracefulShutdownDuration = .seconds(1)
        let serviceGroup = ServiceGroup(configuration: groupConfiguration)
        return try await withThrowingTaskGroup(of: Void.self, returning: R.self) { group in
            group.addTask { try await serviceGroup.run() }
            var iterator = started.makeAsyncIterator()
            guard await iterator.next() != nil else {
                try await group.next()
                throw SandboxError(message: "the sandbox stopped before it started")
            }
            let result: Result<R, any Error>
            do {
                result = .success(try await body(sandbox))
            } catch {
                result = .failure(error)
            }
            await serviceGroup.triggerGracefulShutdown()
            try await group.waitForAll()
            return try result.get()
        }
    }

    /// The sandbox as a service of a `ServiceGroup`, so ``withRunning(configuration:logger:_:)`` can stop it
    /// gracefully.
    private struct SandboxService: Service {
        let sandbox: ProviderSandbox
        let started: AsyncStream<Int>.Continuation

        func run() async throws {
            defer { started.finish() }
            try await sandbox.run(onStarted: { port in started.yield(port) })
        }
    }

    // MARK: Control (Swift API; the same operations exist under /_sandbox)

    /// Adds a fault rule.
    public func addFault(_ fault: SandboxFault) {
        state.withLock { $0.faults.append(fault) }
    }

    /// The longest a create answer is held for ``SandboxFault/answerAfterCallback``.
    public static let maximumHeldAnswer: Duration = .seconds(60)

    /// Lets the held create answer of `paymentId` go out (``SandboxFault/answerAfterCallback``); also before the
    /// create arrives.
    public func releaseAnswer(paymentId: String) {
        state.withLock { _ = $0.releasedAnswers.insert(paymentId) }
    }

    /// Waits until ``releaseAnswer(paymentId:)`` or ``maximumHeldAnswer``: a gateway that is slow to answer.
    func heldAnswer(paymentId: String) async {
        let deadline = ContinuousClock.now + Self.maximumHeldAnswer
        while ContinuousClock.now < deadline {
            if state.withLock({ $0.releasedAnswers.remove(paymentId) != nil }) { return }
            do { try await Task.sleep(for: .milliseconds(10)) } catch { return }
        }
    }

    /// Removes every fault rule.
    public func clearFaults() {
        state.withLock { $0.faults.removeAll() }
    }

    /// Sets the default callback (Amanpay, A7) and postback (FirstPay) URLs; `nil` leaves one unchanged.
    public func setCallbackURLs(amanpay: String? = nil, firstpay: String? = nil) {
        state.withLock {
            if let amanpay { $0.amanpayCallbackURL = amanpay }
            if let firstpay { $0.firstpayPostbackURL = firstpay }
        }
    }

    /// Provider requests received so far, oldest first.
    public func receivedRequests() -> [SandboxReceivedRequest] {
        state.withLock { $0.received }
    }

    /// Forgets received requests and delivery records.
    public func clearRecords() {
        state.withLock {
            $0.received.removeAll()
            $0.deliveries.removeAll()
        }
    }

    /// Callback/postback deliveries so far.
    public func callbackDeliveries() -> [SandboxCallbackDelivery] {
        state.withLock { $0.deliveries }
    }

    /// An Amanpay payment by merchant `paymentId`.
    public func amanpayPayment(paymentId: String, type: String = "purchase") -> SandboxAmanpayPayment? {
        state.withLock { $0.amanpay(type: type, paymentId: paymentId) }
    }

    /// A FirstPay payment by `merchantPaymentId` (or FirstPay `id`).
    public func firstpayPayment(merchantPaymentId: String) -> SandboxFirstPayPayment? {
        state.withLock { $0.firstpay(paymentId: merchantPaymentId, merchantPaymentId: merchantPaymentId) }
    }

    /// Number of payments held, both providers.
    public var paymentCount: Int {
        state.withLock { $0.amanpayPurchases.count + $0.amanpayPayouts.count + $0.firstpayById.count }
    }

    /// Moves an Amanpay payment to a final status and sends the callback (unless `notify` is `false`: a callback
    /// that never comes, which only a status read finds out). A final status never changes (amanpay.md §4):
    /// returns `false` then, or when the payment is unknown.
    @discardableResult
    public func completeAmanpay(
        paymentId: String, type: String = "purchase", status: String, errorCode: String? = nil, notify: Bool = true
    ) -> Bool {
        let updated: SandboxAmanpayPayment? = state.withLock { s in
            guard var p = s.amanpay(type: type, paymentId: paymentId), !p.isFinal else { return nil }
            p.status = status
            p.awaitingOTP = false
            if status == "FAILED" {
                p.errorCode = errorCode ?? "GENERAL_ERROR"
                p.errorMessage = SandboxAmanpayPayment.message(for: p.errorCode!)
            }
            if status == "SUCCESS" {
                p.customerName = p.customerName ?? "Mark Cooper"
                p.customerAccountNumber = p.customerAccountNumber ?? "185927571757184"
            }
            s.setAmanpay(p)
            return p
        }
        guard let updated else { return false }
        if notify { sendAmanpayCallback(updated.object(), payment: updated) }
        return true
    }

    /// Re-sends the callback for an Amanpay payment's current state.
    @discardableResult
    public func resendAmanpayCallback(paymentId: String, type: String = "purchase") -> Bool {
        guard let p = amanpayPayment(paymentId: paymentId, type: type) else { return false }
        sendAmanpayCallback(p.status == "SPECIFICATION" ? p.specificationCallback() : p.object(), payment: p)
        return true
    }

    /// Sets a FirstPay payment's status (`SUCCESS`/`FAILED`/…) and sends a postback (unless `notify` is `false`).
    /// Final statuses can be changed again (firstpay.md §6: corrections).
    @discardableResult
    public func completeFirstPay(
        merchantPaymentId: String, status: String, failedCode: String? = nil, notify: Bool = true
    ) -> Bool {
        let updated: SandboxFirstPayPayment? = state.withLock { s in
            guard var p = s.firstpay(paymentId: merchantPaymentId, merchantPaymentId: merchantPaymentId) else {
                return nil
            }
            p.status = status
            p.failedCode = status == "FAILED" ? (failedCode ?? p.failedCode ?? "ANOTHER_REASON") : nil
            p.smsRequired = false
            s.firstpayById[p.id] = p
            return p
        }
        guard let updated else { return false }
        if notify { sendFirstPayPostback(updated) }
        return true
    }

    /// Flips a final FirstPay payment SUCCESS ↔ FAILED and sends the correcting postback.
    @discardableResult
    public func flipFirstPay(merchantPaymentId: String, failedCode: String = "INCORRECT_AMOUNT") -> Bool {
        guard let p = firstpayPayment(merchantPaymentId: merchantPaymentId) else { return false }
        switch p.status {
        case "SUCCESS": return completeFirstPay(merchantPaymentId: merchantPaymentId, status: "FAILED", failedCode: failedCode)
        case "FAILED": return completeFirstPay(merchantPaymentId: merchantPaymentId, status: "SUCCESS")
        default: return false
        }
    }

    /// Re-sends the postback for a FirstPay payment's current state (a duplicate, F7).
    @discardableResult
    public func resendFirstPayPostback(merchantPaymentId: String) -> Bool {
        guard let p = firstpayPayment(merchantPaymentId: merchantPaymentId) else { return false }
        sendFirstPayPostback(p)
        return true
    }
}

/// A sandbox failure (start-up, bad control request).
public struct SandboxError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { "sandbox: \(message)" }
}
