import AMQP
import BrokerTestKit
import Amanpay
import FirstPay
import Foundation
import Logging
@testable import PayBridge
import PayBridgeContract
import PayBridgeTestKit
import ProviderCore
import ProviderSandbox
import StrictJSON
import Synchronization
import Testing
import PayBridgeTopology

let e2eLogger: Logger = {
    var logger = Logger(label: "paybridge.e2e")
    logger.logLevel = ProcessInfo.processInfo.environment["PAYBRIDGE_TEST_LOG"] == nil ? .critical : .debug
    return logger
}()


/// One end-to-end world: its own vhost (so the pinned queue names never collide with other tests), a provider
/// sandbox, a PayBridge runtime, and a listener that records every outcome event, each validated against its
/// JSON Schema.
///
/// Everyone in it runs under the broker role `deploy/rabbitmq-definitions.json` gives them (``BrokerRolesSupport``):
/// PayBridge as `paybridge` (``amqpURL``), commands are published as `payments-producer` (``producer``), events
/// recorded as `payments-consumer`. Only ``client``, the test's own operator connection (inspecting and breaking the
/// broker), is an administrator.
final class EndToEnd: Sendable {
    let vhost: String
    let sandbox: ProviderSandbox
    /// PayBridge's broker URL: the `paybridge` role on this world's vhost.
    let amqpURL: String
    /// The operator's connection (guest, administrator): for inspecting queues and breaking the topology.
    let client: AMQPConnection
    /// A producer's connection (`payments-producer`): what ``send(_:id:data:)`` and ``sendRaw(_:routingKey:messageId:headers:)`` publish with.
    let producer: AMQPConnection
    /// A consumer's connection (`payments-consumer`): what ``events`` records with.
    let consumer: AMQPConnection
    let events: EventRecorder

    private init(vhost: String, sandbox: ProviderSandbox, amqpURL: String, client: AMQPConnection,
                 producer: AMQPConnection, consumer: AMQPConnection, events: EventRecorder) {
        self.vhost = vhost
        self.sandbox = sandbox
        self.amqpURL = amqpURL
        self.client = client
        self.producer = producer
        self.consumer = consumer
        self.events = events
    }

    static func brokerBase() -> String {
        let url = ProcessInfo.processInfo.environment["RABBITMQ_URL"] ?? "amqp://guest:guest@127.0.0.1:5672/%2F"
        return String(url[..<url.index(url.lastIndex(of: "/")!, offsetBy: 0)])
    }

    /// Runs `body` in a fresh world; tears it down afterwards.
    /// - Parameter recordEvents: bind the ``EventRecorder`` to `payments.outcomes` before `body` runs (without
    ///   it, only the history stream `payments.history` receives the events until the test binds a queue).
    static func run<R: Sendable>(
        recordEvents: Bool = true,
        configure: @Sendable (inout ProviderSandboxConfiguration) -> Void = { _ in },
        _ body: @Sendable (EndToEnd) async throws -> R
    ) async throws -> R {
        let vhost = "paybridge-e2e-\(UUID().uuidString.prefix(8).lowercased())"
        try await BrokerRolesSupport.createVHost(vhost)
        var sandboxConfig = try ProviderSandboxConfiguration.testKeys(directory: providerTestdata)
        sandboxConfig.callbackRetryDelay = .milliseconds(20)
        sandboxConfig.callbackMaxRetryDelay = .milliseconds(200)
        configure(&sandboxConfig)
        let frozenConfig = sandboxConfig
        do {
            let result = try await inSandbox(vhost: vhost, frozenConfig, recordEvents: recordEvents, body)
            _ = try? await RabbitMQCtl.run("delete_vhost", vhost)
            return result
        } catch {
            _ = try? await RabbitMQCtl.run("delete_vhost", vhost)
            throw error
        }
    }

    private static func inSandbox<R: Sendable>(
        vhost: String, _ frozenConfig: ProviderSandboxConfiguration, recordEvents: Bool,
        _ body: @Sendable (EndToEnd) async throws -> R
    ) async throws -> R {
        try await ProviderSandbox.withRunning(configuration: frozenConfig, logger: e2eLogger) { sandbox in
            let client = try await AMQPConnection.connect(url: "\(brokerBase())/\(vhost)", logger: e2eLogger)
            let paybridgeURL = BrokerRolesSupport.url(.paybridge, vhost: vhost)
            let producer = try await AMQPConnection.connect(url: BrokerRolesSupport.url(.producer, vhost: vhost),
                                                            logger: e2eLogger)
            let consumer = try await AMQPConnection.connect(url: BrokerRolesSupport.url(.consumer, vhost: vhost),
                                                            logger: e2eLogger)
            let world = EndToEnd(vhost: vhost, sandbox: sandbox, amqpURL: paybridgeURL, client: client,
                                 producer: producer, consumer: consumer, events: EventRecorder())
            func closeAll() async {
                await consumer.close()
                await producer.close()
                await client.close()
            }
            do {
                // Declared as PayBridge declares it at start-up: under its role.
                let setup = try await AMQPConnection.connect(url: paybridgeURL, logger: e2eLogger)
                do {
                    try await BrokerSetup.declare(on: setup)
                } catch {
                    await setup.close()
                    throw error
                }
                await setup.close()
                if recordEvents { try await world.events.start(on: consumer) }
                let result = try await body(world)
                await closeAll()
                return result
            } catch {
                await closeAll()
                throw error
            }
        }
    }

    /// PayBridge's configuration for this world (both providers on the sandbox, fast client retries).
    func configuration(maxAttempts: Int = 3, prefetch: UInt16 = 50, requestTimeout: Duration = .seconds(2))
        throws -> PayBridgeConfiguration
    {
        var amqp = try AMQPConfiguration(url: amqpURL)
        amqp.connectionName = "paybridge-e2e"
        amqp.reconnect = AMQPReconnectPolicy(initialDelay: .milliseconds(50), maximumDelay: .milliseconds(500))
        let fastRetries = RetryPolicy(maxAttempts: 2, baseDelay: .milliseconds(10), maxDelay: .milliseconds(50),
                                      maxTotalTime: .seconds(5))
        let timeouts = TransportTimeouts(connect: .seconds(1), request: requestTimeout)
        let amanpay = AmanpayConfiguration(
            baseURL: sandbox.baseURL, merchantId: sandbox.configuration.amanpayMerchantId,
            secretKey: sandbox.configuration.amanpaySecretKey, timeouts: timeouts, retryPolicy: fastRetries)
        let firstpay = FirstPayConfiguration(
            baseURL: sandbox.baseURL, publicKeyPEM: sandbox.configuration.firstpayPublicKeyPEM,
            merchantPrivateKeyPEM: Secret(try String(contentsOfFile: providerTestdata + "/merchant_private.pem",
                                                     encoding: .utf8)),
            timeouts: timeouts, retryPolicy: fastRetries)
        var configuration = PayBridgeConfiguration(amqp: amqp, amanpay: amanpay, firstpay: firstpay)
        configuration.httpPort = 0
        configuration.adminPort = 0
        configuration.maxAttempts = maxAttempts
        configuration.prefetch = prefetch
        configuration.shutdownTimeout = .seconds(20)
        // The sandbox is one client delivering every payment's callbacks at machine speed; the callback rate limit
        // has its own tests (HTTPListenerTests), which turn it on.
        configuration.callbackRateLimit = CallbackRateLimit(perSecond: 0, burst: 1)
        return configuration
    }

    /// Starts a runtime, points the sandbox's callbacks at it, runs `body`, then shuts it down gracefully.
    func withPayBridge<R: Sendable>(
        _ configuration: PayBridgeConfiguration? = nil, role: PayBridgeRuntime.Role = .all,
        _ body: @Sendable (PayBridgeRuntime) async throws -> R
    ) async throws -> R {
        let runtime = try await PayBridgeRuntime.start(
            configuration: configuration ?? self.configuration(), role: role, logger: e2eLogger, signals: [])
        return try await withThrowingTaskGroup(of: Void.self, returning: R.self) { group in
            group.addTask { try await runtime.run() }
            let port = await runtime.httpPort()  // 0 for a worker: it has no callbacks listener
            sandbox.setCallbackURLs(amanpay: "http://127.0.0.1:\(port)/callbacks/amanpay",
                                    firstpay: "http://127.0.0.1:\(port)/callbacks/firstpay")
            do {
                let result = try await body(runtime)
                await runtime.triggerGracefulShutdown()
                try await group.waitForAll()
                return result
            } catch {
                await runtime.triggerGracefulShutdown()
                try? await group.waitForAll()
                throw error
            }
        }
    }

    /// Publishes a command (CloudEvents JSON) to `payments.commands`.
    func send(_ kind: PaymentCommandKind, id: String = "cmd-\(UUID().uuidString.lowercased())",
              data: JSONObject) async throws -> String {
        let envelope: JSONValue = .object([
            "specversion": .string("1.0"), "id": .string(id), "type": .string(kind.type),
            "source": .string("/tests/e2e"), "time": .string("2026-11-21T06:00:00Z"),
            "datacontenttype": .string("application/json"), "data": .object(data),
        ])
        try await sendRaw(envelope.serialized(), routingKey: kind.routingKey, messageId: id)
        return id
    }

    func sendRaw(_ body: [UInt8], routingKey: String, messageId: String? = nil, headers: AMQPTable? = nil)
        async throws
    {
        try await producer.publish(body, exchange: Topology.commandsExchange, routingKey: routingKey, mandatory: true,
                                 properties: .init(contentType: "application/cloudevents+json", headers: headers,
                                                   persistent: true, messageId: messageId))
    }
}

/// A received outcome event.
struct RecordedEvent: Sendable {
    let event: CloudEvent
    let routingKey: String
    let properties: AMQPProperties
    let schemaErrors: [String]
    var data: JSONValue { event.data ?? .null }
    var commandId: String? { data["commandId"]?.stringValue }
    var status: String? { data["status"]?.stringValue }
}

/// Records every event on `payments.outcomes` (through its own exclusive queue bound with `#`).
final class EventRecorder: Sendable {
    private let state = Mutex<(events: [RecordedEvent], waiters: [UUID: (@Sendable ([RecordedEvent]) -> Bool, CheckedContinuation<Void, Never>)])>(([], [:]))

    func start(on connection: AMQPConnection) async throws {
        // A consumer's queue: `payments-consumer` may declare, bind and read only names starting `consumer.`.
        let queue = "consumer.e2e-events.\(UUID().uuidString.prefix(8).lowercased())"
        try await connection.declare(AMQPQueue(queue, durable: false, exclusive: true, autoDelete: true))
        try await connection.bind(queue: queue, exchange: Topology.outcomesExchange, routingKey: "#")
        let consumer = try await connection.consume(queue: queue, prefetch: 1000)
        Task { [self] in
            do {
                for try await delivery in consumer {
                    try? await delivery.ack()
                    record(delivery)
                }
            } catch {}
        }
    }

    private func record(_ delivery: AMQPDelivery) {
        guard let event = try? CloudEvent.parse(delivery.body) else {
            Issue.record("an outcome that is not a CloudEvent: \(delivery.bodyString)")
            return
        }
        let errors = OutcomeEvents.validate(event).map { "\($0)" }
        let recorded = RecordedEvent(event: event, routingKey: delivery.routingKey, properties: delivery.properties,
                                     schemaErrors: errors)
        let ready = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.events.append(recorded)
            var ready: [CheckedContinuation<Void, Never>] = []
            for (id, waiter) in s.waiters where waiter.0(s.events) {
                ready.append(waiter.1)
                s.waiters.removeValue(forKey: id)
            }
            return ready
        }
        for continuation in ready { continuation.resume() }
    }

    var all: [RecordedEvent] { state.withLock { $0.events } }

    /// Waits (bounded) until `condition` holds over the events received so far.
    func wait(timeout: Duration = .seconds(30), for what: String = "events condition",
              until condition: @escaping @Sendable ([RecordedEvent]) -> Bool) async throws
    {
        let id = UUID()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                await withCheckedContinuation { continuation in
                    let satisfied = self.state.withLock { s -> Bool in
                        if condition(s.events) { return true }
                        s.waiters[id] = (condition, continuation)
                        return false
                    }
                    if satisfied { continuation.resume() }
                }
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw TimeoutError(what: "\(what) not met within \(timeout)")
            }
            defer {
                group.cancelAll()
                if let waiter = self.state.withLock({ $0.waiters.removeValue(forKey: id) }) { waiter.1.resume() }
            }
            try await group.next()
        }
    }

    /// Waits for the first event of `type` for `commandId`.
    func first(type: String, commandId: String, timeout: Duration = .seconds(30)) async throws -> RecordedEvent {
        try await wait(timeout: timeout, for: "\(type) for \(commandId)") {
            $0.contains { $0.event.type == type && $0.commandId == commandId }
        }
        return all.first { $0.event.type == type && $0.commandId == commandId }!
    }

    func forCommand(_ commandId: String) -> [RecordedEvent] { all.filter { $0.commandId == commandId } }
}

struct TimeoutError: Error, CustomStringConvertible {
    var what: String
    var description: String { what }
}
