import AMQP
import Amanpay
import Foundation
import Logging
import PayBridge
import PayBridgeContract
import PayBridgeRules
import PayBridgeTopology
import ProviderCore

/// Stage 3 as a whole: the provider call against the sandbox (`paybridge-sandbox`, its own process), counted for the
/// whole process because the transport works on its event-loop threads. CPU is this process's only (the calling
/// side); the sandbox's is not in it.
struct ProviderStages: Sendable {
    let plan: Plan
    let baseURL: String
    let httpClient: ProviderHTTPClient
    let transport: any ProviderTransport
    let client: AmanpayClient
    let executor: AmanpayCommandExecutor
    /// Distinguishes this run's payment ids from earlier runs' against the same sandbox.
    let run = String(UInt32.random(in: 0...UInt32.max), radix: 36)

    /// The client as `PayBridgeRuntime` makes it (one shared client of the worker's default transport, or of
    /// `PAYBRIDGE_HTTP_TRANSPORT` when set; default timeouts), without a tracer: the provider request's span is 6b.
    init(plan: Plan, baseURL: String) {
        self.plan = plan
        self.baseURL = baseURL
        let timeouts = TransportTimeouts()
        var kind = ProviderHTTPTransportKind.default
        if let text = ProcessInfo.processInfo.environment["PAYBRIDGE_HTTP_TRANSPORT"] {
            guard let named = ProviderHTTPTransportKind(rawValue: text) else {
                fail("PAYBRIDGE_HTTP_TRANSPORT=\(text): use nio or asynchttpclient")
            }
            kind = named
        }
        httpClient = ProviderHTTPClient(kind: kind, timeouts: timeouts)
        transport = httpClient.transport(timeouts: timeouts, tracer: nil)
        client = AmanpayClient(configuration: Inputs.amanpayConfiguration(baseURL: baseURL), transport: transport,
                               logger: Logger(label: "paybridge.provider.amanpay"))
        executor = AmanpayCommandExecutor(client: client)
    }

    /// `count` bench commands sent to the sandbox, with its answers: the inputs of the stages after the call.
    func inputs(_ count: Int, rules: DeliveryRules) async throws -> [Executed] {
        var executed: [Executed] = []
        for index in 0..<count {
            let delivery = Inputs.delivery("bench-profile-\(run)-in-\(index)", tag: UInt64(index + 1))
            let command = Inputs.command(delivery, rules: rules)
            let request = Inputs.payoutRequest(command)
            let amount = request.amount.twoDecimalText!, merchantId = String(Inputs.merchantId)
            let signature = AmanpaySignature.sign([amount, request.currency, merchantId, request.paymentId, ""],
                                                  secret: Inputs.secret)
            let response = try await transport.post(
                url: baseURL + "/payments/payouts/initiate", headers: [("Authorization", signature)],
                body: AmanpayClient.payoutBody(request, merchantId: merchantId, amount: amount), provider: .amanpay,
                operation: "payout", logger: Logger(label: "paybridge.provider.amanpay"))
            guard let result = try? client.interpret(response, operation: "payout"), result.status == .processing else {
                fail("the sandbox did not answer the payout as PENDING (HTTP \(response.status): \(response.bodyText))")
            }
            executed.append(Executed(delivery: delivery, command: command, request: request, response: response,
                                     result: result))
        }
        return executed
    }

    /// 3: `AmanpayCommandExecutor.execute` as the worker calls it for a first delivery: the command's data read into
    /// a payout request, signed, its body written, the retry runner and circuit breaker, one POST through
    /// the transport, the answer verified and read. One command after the other; `concurrent`: the CPU per command
    /// with 200 at once (a task each), as the worker runs them with prefetch 200.
    func execute(rules: DeliveryRules) async throws -> (figures: Figures, concurrent: Double) {
        func commands(_ prefix: String) -> [PaymentCommand] {
            (0..<plan.total).map { index in
                Inputs.command(Inputs.delivery("bench-profile-\(run)-\(prefix)-\(index)", tag: 1), rules: rules)
            }
        }
        let sequential = commands("s"), parallel = commands("p")
        let executor = executor
        let figures = try await measure(plan, row: "3", scope: .process) { index in
            try await executor.execute(sequential[index], statusFirst: false).status == .processing ? 1 : 0
        }
        let concurrent = try await concurrentCPU(plan, inFlight: 200) { index in
            try await executor.execute(parallel[index], statusFirst: false).status == .processing ? 1 : 0
        }
        return (figures, concurrent)
    }

    func shutdown() async throws { try await httpClient.shutdown() }
}

/// Stage 5 against the broker (`make broker`, this profiler's own vhost, PayBridge's topology declared as
/// `paybridge topology` does), counted for the whole process: the AMQP I/O thread does the socket work.
struct BrokerStages: Sendable {
    let plan: Plan
    let connection: AMQPConnection

    static func connect(plan: Plan, url: String) async throws -> BrokerStages {
        var logger = Logger(label: "paybridge.amqp")
        logger.logLevel = .warning
        let connection = try await AMQPConnection.connect(url: url, logger: logger)
        try await BrokerSetup.declare(on: connection)
        _ = try await connection.purgeQueue(Topology.commandQueue(.amanpay))
        return BrokerStages(plan: plan, connection: connection)
    }

    /// Publishes `count` bench commands to `payments.commands` (confirmed, in batches), for the consumer to read.
    func prefill(_ count: Int) async throws {
        let run = String(UInt32.random(in: 0...UInt32.max), radix: 36)
        for start in stride(from: 0, to: count, by: 500) {
            let batch = (start..<min(count, start + 500)).map { index in
                let id = "bench-profile-\(run)-c\(index)"
                return AMQPMessage(body: Inputs.commandBody(id), exchange: Topology.commandsExchange,
                                   routingKey: PaymentCommandKind.amanpayPayout.routingKey,
                                   properties: Inputs.properties(id))
            }
            for result in await connection.publish(batch: batch, confirmTimeout: .seconds(30)) { try result.get() }
        }
    }

    /// 5b: deliveries from the Amanpay command queue as `ProviderQueueWorker` takes them (prefetch 200, a child task
    /// of a discarding task group per delivery) and acked from that task. Each pass puts its commands in the queue
    /// first (not counted) and consumes them all with a consumer of its own (so no delivery read before the pass is
    /// counted in it, nor one read in it left for the next); the consumer's start and cancel are in the pass.
    func consumeAndAck() async throws -> Figures {
        try await measurePasses(plan, row: "5b", scope: .process, prepare: prefill) { count in
            let consumer = try await connection.consume(queue: Topology.commandQueue(.amanpay), prefetch: 200)
            var iterator = consumer.makeAsyncIterator()
            try await withThrowingDiscardingTaskGroup { group in
                for _ in 0..<count {
                    guard let delivery = try await iterator.next() else { fail("the command queue's consumer ended") }
                    group.addTask { try await delivery.ack() }
                }
            }
            await consumer.cancel()  // after the acks, in the connection's order: they have been sent
            return count
        }
    }

    /// One delivery of a bench command from the command queue (acked), for row 1.
    func sample() async throws -> AMQPDelivery {
        try await prefill(1)
        let consumer = try await connection.consume(queue: Topology.commandQueue(.amanpay), prefetch: 1)
        var iterator = consumer.makeAsyncIterator()
        guard let delivery = try await iterator.next() else { fail("the command queue's consumer ended") }
        try await delivery.ack()
        await consumer.cancel()
        return delivery
    }

    /// 5a: what `OutcomePublisher.publish(_:then:)` hands the connection for a payout left open: the event and the
    /// first check as one batch, mandatory, and the wait for both confirms (the messages' bytes and properties are
    /// row 4's). `single`: one event alone. `concurrent`: the batch with 200 commands publishing at once.
    func publish(_ plans: [DeliveryPlan]) async throws -> (figures: Figures, single: Figures, concurrent: Double) {
        let batches = plans.map { plan in
            var batch = plan.events.map { event in
                AMQPMessage(body: event.body, exchange: event.exchange, routingKey: event.routingKey, mandatory: true,
                            properties: OutcomePublisher.properties(event))
            }
            if let check = plan.nextCheck {
                batch.append(AMQPMessage(body: check.check.body, exchange: Topology.internalExchange,
                                         routingKey: check.queue, mandatory: true, properties: check.check.properties))
            }
            return batch
        }
        guard batches.allSatisfy({ $0.count == 2 }) else { fail("a payout's plan is not one event and one check") }
        let connection = connection
        @Sendable func send(_ batch: [AMQPMessage]) async throws -> Int {
            for result in await connection.publish(batch: batch, confirmTimeout: .seconds(10)) { try result.get() }
            return batch.count
        }
        let figures = try await measure(plan, row: "5a", scope: .process) { index in
            try await send(batches[index % batches.count])
        }
        let single = try await measure(plan, row: "5a1", scope: .process) { index in
            let event = batches[index % batches.count][0]
            try await connection.publish(event.body, exchange: event.exchange, routingKey: event.routingKey,
                                         mandatory: true, properties: event.properties, confirmTimeout: .seconds(10))
            return 1
        }
        let concurrent = try await concurrentCPU(plan, inFlight: 200) { try await send(batches[$0 % batches.count]) }
        return (figures, single, concurrent)
    }

    func close() async {
        _ = try? await connection.purgeQueue(Topology.commandQueue(.amanpay))
        await connection.close()
    }
}
