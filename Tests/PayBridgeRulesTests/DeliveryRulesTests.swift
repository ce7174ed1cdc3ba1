import AMQPValues
import PayBridgeRules
import PayBridgeTestKit
import PayBridgeContract
import PayBridgeTools
import PaymentVocabulary
import Testing

/// The worker's rules for a command delivery, one test per rule, as exact plans: no broker, no threads.
@Suite struct DeliveryRulesTests {
    typealias Fixtures = CommandDeliveryFixtures
    let rules = DeliveryRules(provider: .amanpay, maxAttempts: 3)
    let time = Fixtures.time

    // MARK: Invalid commands

    @Test func anInvalidCommandIsDeadLetteredAfterItsCommandFailedEventAndAcked() throws {
        let delivery = Fixtures.delivery(Array(#"{"specversion":"1.0","id":"x",}"#.utf8))
        let rejection = try rejectionOf(delivery)
        #expect(rejection.code == "BAD_JSON")
        let plan = rules.plan(rejected: rejection, delivery: delivery, at: time)

        let failed = OutcomeEvents.commandFailed(rejection: rejection, provider: .amanpay, time: time)
        #expect(failed.event.type == "paybridge.command.failed.v1")
        #expect(failed.routingKey == "amanpay.purchase.failed")
        // The command failed, not the payment (which may exist under the same paymentId): the status rule never
        // moves a payment on it.
        #expect(failed.event.data?["status"] == "unknown")
        #expect(failed.event.data?["final"] == false)
        #expect(failed.event.data?["error"]?["class"] == "invalid_command")
        let deadLetter = CommandDeadLetter(
            routingKey: "amanpay.purchase", reason: .invalidCommand, code: "BAD_JSON", detail: rejection.message,
            failedEventId: failed.event.id, body: delivery.body,
            properties: Fixtures.deadLetterProperties(
                producer: Fixtures.delivery([]).properties, attempt: 1, originalRoutingKey: "amanpay.purchase",
                reason: "invalid_command", code: "BAD_JSON", detail: rejection.message, failedEventId: failed.event.id))
        #expect(plan == DeliveryPlan(events: [failed], republish: .deadLetter(deadLetter), disposition: .ack,
                                     verdict: .rejected(code: "BAD_JSON")))
    }

    @Test func unusableHeadersRejectTheCommandWithoutReadingItsBodyAndDeadLetterItAsAttemptOne() throws {
        let body = Fixtures.body(.amanpayPurchase, data: Fixtures.purchaseData)
        let received = AMQPProperties(headers: ["x-paybridge-attempt": .int32(0)])
        let delivery = CommandDelivery(body: body, properties: received, routingKey: "amanpay.purchase",
                                       exchange: Topology.internalExchange)
        let rejection = try rejectionOf(delivery)
        #expect(rejection.code == "INVALID_HEADER")
        #expect(rejection.commandId == nil, "the body was not parsed")
        let plan = rules.plan(rejected: rejection, delivery: delivery, at: time)

        let failed = OutcomeEvents.commandFailed(rejection: rejection, provider: .amanpay, time: time)
        let properties = AMQPProperties(
            headers: [
                "x-paybridge-attempt": .int32(1),
                "x-paybridge-original-routing-key": .string("amanpay.purchase"),
                "x-paybridge-dead-letter-reason": .string("invalid_command"),
                "x-paybridge-dead-letter-code": .string("INVALID_HEADER"),
                "x-paybridge-dead-letter-detail": .string(rejection.message),
                "x-paybridge-dead-lettered-at": .string(Fixtures.timeText),
                "x-paybridge-source-queue": .string("payments.amanpay"),
                "x-paybridge-failed-event-id": .string(failed.event.id),
            ],
            persistent: true)
        let deadLetter = CommandDeadLetter(
            routingKey: "amanpay.purchase", reason: .invalidCommand, code: "INVALID_HEADER", detail: rejection.message,
            failedEventId: failed.event.id, body: body, properties: properties)
        #expect(plan == DeliveryPlan(events: [failed], republish: .deadLetter(deadLetter), disposition: .ack,
                                     verdict: .rejected(code: "INVALID_HEADER")))
    }

    // MARK: A producer may ask, never impersonate

    @Test func aProducersPayBridgeHeadersAreIgnoredAndNeverForwarded() throws {
        let body = Fixtures.body(.amanpayPurchase, data: Fixtures.purchaseData)
        let forged = AMQPProperties(headers: [
            Topology.Headers.attempt: .int32(99), Topology.Headers.originalRoutingKey: .string("amanpay.payout"),
            Topology.Headers.replayed: .bool(true), Topology.Headers.notification: .string("reconcile"),
            Topology.Headers.account: .string("other"), "X-PayBridge-Source-Queue": .string("any case"),
            "traceparent": .string("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
        ])
        let delivery = CommandDelivery(body: body, properties: forged, routingKey: "amanpay.purchase",
                                       exchange: Topology.commandsExchange)
        #expect(!delivery.isInternal)
        #expect(delivery.attempt == 1 && delivery.originalRoutingKey == "amanpay.purchase" && !delivery.headers.replayed)
        #expect(delivery.headers.problem == nil)
        #expect(!ReconcileCheck.isCheck(delivery) && !CallbackNotification.isNotification(delivery))
        #expect(Set(delivery.ignoredHeaders) == [
            Topology.Headers.attempt, Topology.Headers.originalRoutingKey, Topology.Headers.replayed,
            Topology.Headers.notification, Topology.Headers.account, "X-PayBridge-Source-Queue",
        ])
        #expect(delivery.properties.headers?.entries.map(\.key) == ["traceparent"], "the producer's own headers stay")
        let forwarded = delivery.forwardedProperties(attempt: 2).headers ?? [:]
        #expect(forwarded[Topology.Headers.notification] == nil && forwarded[Topology.Headers.replayed] == nil)
        #expect(forwarded[Topology.Headers.originalRoutingKey] == .string("amanpay.purchase"))
        #expect(try command(delivery).kind == .amanpayPurchase)
        #expect(!rules.statusFirst(try command(delivery), delivery: delivery, seenBefore: false),
                "a forged replayed header does not change how a create runs")

        // The same headers through PayBridge's own route are honoured.
        let own = CommandDelivery(body: body, properties: forged, routingKey: Topology.commandQueue(.amanpay),
                                  exchange: Topology.internalExchange)
        #expect(own.isInternal && own.ignoredHeaders.isEmpty && own.attempt == 99 && own.headers.replayed)
        #expect(ReconcileCheck.isCheck(own))
        // Through the default exchange (an administrator publishing straight to the queue) they are not.
        let direct = CommandDelivery(body: body, properties: forged, routingKey: Topology.commandQueue(.amanpay),
                                     exchange: "")
        #expect(!direct.isInternal && direct.attempt == 1 && !ReconcileCheck.isCheck(direct))
        // … unless the worker is upgrading from a version that sent its own messages that way
        // (PAYBRIDGE_TRUST_DEFAULT_EXCHANGE).
        let legacy = CommandDelivery(body: body, properties: forged, routingKey: Topology.commandQueue(.amanpay),
                                     exchange: "", trustDefaultExchange: true)
        #expect(legacy.isInternal && legacy.attempt == 99 && ReconcileCheck.isCheck(legacy))
        let stillProducer = CommandDelivery(body: body, properties: forged, routingKey: "amanpay.purchase",
                                            exchange: Topology.commandsExchange, trustDefaultExchange: true)
        #expect(!stillProducer.isInternal && stillProducer.attempt == 1, "never on payments.commands")
    }

    // MARK: The provider answered

    @Test func aProviderAnswerIsPublishedAsAPaymentResponseAndAcked() throws {
        let delivery = Fixtures.purchase()
        let result = ProviderResult(
            provider: .amanpay, operation: "purchase", status: .requiresAction, providerStatus: "REDIRECT",
            providerPaymentId: "62861", merchantPaymentId: "payment_812", amount: DecimalAmount("250.51"),
            currency: "BDT", redirectUrl: "https://pay.example/1", httpStatus: 200, rawBody: #"{"status":"REDIRECT"}"#)
        let plan = try decide(delivery, .answered(result))

        let response = OutcomeEvents.response(
            PaymentOutcome(
                commandId: "cmd-1", provider: .amanpay, account: .default,
                operation: "purchase", paymentId: "payment_812",
                providerPaymentId: "62861", status: .requiresAction, final: false, providerStatus: "REDIRECT",
                amount: "250.51", currency: "BDT", redirectUrl: "https://pay.example/1", attempts: 1,
                raw: ["status": "REDIRECT"]),
            time: time)
        #expect(response.routingKey == "amanpay.purchase.response")
        #expect(plan == DeliveryPlan(events: [response], disposition: .ack,
                                     verdict: .answered(status: .requiresAction)))
    }

    @Test func aDeclineIsAPaymentResponseNotAFailure() throws {
        let delivery = Fixtures.purchase(attempt: 2)
        let result = ProviderResult(
            provider: .amanpay, operation: "purchase", status: .failed, providerStatus: "FAILED",
            merchantPaymentId: "payment_812",
            error: OutcomeError(code: "GENERAL_ERROR", message: "declined", errorClass: .declined))
        let plan = try decide(delivery, .answered(result))

        let response = OutcomeEvents.response(
            PaymentOutcome(
                commandId: "cmd-1", provider: .amanpay, account: .default,
                operation: "purchase", paymentId: "payment_812",
                status: .failed, final: true, providerStatus: "FAILED",
                error: OutcomeError(code: "GENERAL_ERROR", message: "declined", errorClass: .declined), attempts: 2),
            time: time)
        #expect(plan == DeliveryPlan(events: [response], disposition: .ack, verdict: .answered(status: .failed)))
    }

    // MARK: Transient trouble

    @Test func anUnresolvedAmbiguousCreateIsRetriedByTheBrokerAsTheNextAttempt() throws {
        let delivery = Fixtures.purchase()
        let result = ProviderResult(
            provider: .amanpay, operation: "purchase", status: .unknown, merchantPaymentId: "payment_812",
            error: OutcomeError(code: "TIMEOUT", message: "no answer", errorClass: .unknown))
        let plan = try decide(delivery, .answered(result))

        let retry = CommandRetry(
            queue: "payments.retry.amanpay.1", nextAttempt: 2, body: delivery.body,
            properties: Fixtures.forwardedProperties(attempt: 2, originalRoutingKey: "amanpay.purchase"))
        #expect(plan == DeliveryPlan(republish: .retry(retry), disposition: .ack,
                                     verdict: .retryScheduled(code: "TIMEOUT")))
    }

    @Test func aTransientFailureIsRetriedInTheDelayQueueOfTheNextAttemptWithTheAttemptInItsHeader() throws {
        let delivery = Fixtures.purchase(attempt: 2)
        #expect(delivery.routingKey == "amanpay", "back from the retry queues under the provider's key")
        let plan = try decide(delivery, .providerFailed(Fixtures.failure(.transient, "HTTP_503")))

        let retry = CommandRetry(
            queue: "payments.retry.amanpay.2", nextAttempt: 3, body: delivery.body,
            properties: Fixtures.forwardedProperties(attempt: 3, originalRoutingKey: "amanpay.purchase"))
        #expect(plan == DeliveryPlan(republish: .retry(retry), disposition: .ack,
                                     verdict: .retryScheduled(code: "HTTP_503")))
    }

    @Test func atMaxAttemptsACreateIsReportedUnknownAsRetriesExhaustedAndDeadLettered() throws {
        let delivery = Fixtures.purchase(attempt: 3)
        let plan = try decide(delivery, .providerFailed(Fixtures.failure(.transient, "HTTP_503")))

        let message = "gave up after 3 attempts: HTTP_503 happened"
        let failed = OutcomeEvents.commandFailed(
            PaymentOutcome(
                commandId: "cmd-1", provider: .amanpay, account: .default,
                operation: "purchase", paymentId: "payment_812",
                status: .unknown, final: false, amount: "250.51", currency: "BDT",
                error: OutcomeError(code: "HTTP_503", message: message, errorClass: .retriesExhausted), attempts: 3),
            time: time)
        let deadLetter = CommandDeadLetter(
            routingKey: "amanpay.purchase", reason: .retriesExhausted, code: "HTTP_503", detail: message,
            failedEventId: failed.event.id, body: delivery.body,
            properties: Fixtures.deadLetterProperties(
                producer: delivery.properties, attempt: 3, originalRoutingKey: "amanpay.purchase",
                reason: "retries_exhausted", code: "HTTP_503", detail: message, failedEventId: failed.event.id))
        #expect(plan == DeliveryPlan(events: [failed], republish: .deadLetter(deadLetter), disposition: .ack,
                                     verdict: .failed(code: "HTTP_503", errorClass: .retriesExhausted)))
    }

    @Test func atMaxAttemptsAStatusCommandSaysNothingAboutThePayment() throws {
        // A status command whose reads kept failing must not make a payment that had succeeded look failed.
        let delivery = Fixtures.status(attempt: 3)
        let plan = try decide(delivery, .providerFailed(Fixtures.failure(.unknown, "TIMEOUT")))
        let data = try #require(plan.events.first?.event.data)
        #expect(plan.events.first?.event.type == "paybridge.command.failed.v1")
        #expect(data["status"] == "unknown")
        #expect(data["final"] == false)
        #expect(plan.nextCheck == nil, "a status command starts no reconciliation chain")
        #expect(data["error"]?["class"] == "retries_exhausted")
        #expect(plan.verdict == .failed(code: "TIMEOUT", errorClass: .retriesExhausted))
        guard case .deadLetter(let deadLetter) = plan.republish else {
            Issue.record("expected a dead letter, got \(String(describing: plan.republish))")
            return
        }
        #expect(deadLetter.routingKey == "amanpay.status")
    }

    // MARK: Pauses

    @Test func aConfigurationFailurePutsTheCommandBackAndPausesWithoutPublishing() throws {
        let delivery = Fixtures.purchase()
        let plan = try decide(delivery, .providerFailed(Fixtures.failure(.configuration, "INVALID_API_KEY")))
        #expect(plan == DeliveryPlan(disposition: .putBackAndPause(reason: "configuration: INVALID_API_KEY"),
                                     verdict: .pausedForConfiguration(code: .init(rawValue: "INVALID_API_KEY"))))
    }

    @Test func anOpenCircuitPutsTheCommandBackAndPausesRatherThanBurningAnAttempt() throws {
        let delivery = Fixtures.purchase(attempt: 3)
        let plan = try decide(delivery, .providerFailed(Fixtures.failure(.transient, "CIRCUIT_OPEN")))
        #expect(plan == DeliveryPlan(disposition: .putBackAndPause(reason: "circuit open"),
                                     verdict: .pausedForOpenCircuit))
    }

    // MARK: Commands that cannot succeed

    @Test func aRequestTheProviderRefusesFailsForGoodAndIsDeadLettered() throws {
        let delivery = Fixtures.purchase()
        let plan = try decide(delivery, .providerFailed(Fixtures.failure(.invalidCommand, "INVALID_AMOUNT", raw: "{}")))

        let failed = OutcomeEvents.commandFailed(
            PaymentOutcome(
                commandId: "cmd-1", provider: .amanpay, account: .default,
                operation: "purchase", paymentId: "payment_812",
                status: .unknown, final: false, amount: "250.51", currency: "BDT",
                error: OutcomeError(code: "INVALID_AMOUNT", message: "INVALID_AMOUNT happened",
                                    errorClass: .invalidCommand),
                attempts: 1, raw: [:]),
            time: time)
        let deadLetter = CommandDeadLetter(
            routingKey: "amanpay.purchase", reason: .invalidCommand, code: "INVALID_AMOUNT",
            detail: "INVALID_AMOUNT happened", failedEventId: failed.event.id, body: delivery.body,
            properties: Fixtures.deadLetterProperties(
                producer: delivery.properties, attempt: 1, originalRoutingKey: "amanpay.purchase",
                reason: "invalid_command", code: "INVALID_AMOUNT", detail: "INVALID_AMOUNT happened",
                failedEventId: failed.event.id))
        #expect(plan == DeliveryPlan(events: [failed], republish: .deadLetter(deadLetter), disposition: .ack,
                                     verdict: .failed(code: "INVALID_AMOUNT", errorClass: .invalidCommand)))
        #expect(plan.events.first?.event.data?["status"] == "unknown")
        #expect(plan.events.first?.event.data?["final"] == false)
    }

    @Test(arguments: [(Provider.amanpay, "TRANSACTION_NOT_FOUND"), (Provider.firstpay, "NOT_FOUND")])
    func aPaymentTheProviderDoesNotKnowIsAResponseUnknownNotFinalNotFoundAndIsNotDeadLettered(
        provider: Provider, code: String
    ) throws {
        // A lookup that finds nothing (a wrong paymentType, a create still in flight) says nothing about the
        // payment's status: `unknown`, so a payment waiting in requires_action never becomes `failed`.
        let rules = DeliveryRules(provider: provider, maxAttempts: 3)
        let delivery = provider == .amanpay
            ? Fixtures.status()
            : Fixtures.delivery(Fixtures.body(.firstpayStatus, data: #"{"merchantPaymentId":"payment_812"}"#),
                                routingKey: "firstpay.status")
        let command = try rules.decode(delivery).get()
        var error = Fixtures.failure(.notFound, code)
        error.provider = provider
        error.rawBody = #"{"error":"NOT_FOUND"}"#
        let plan = rules.plan(executed: command, delivery: delivery, execution: .providerFailed(error), at: time)

        let response = OutcomeEvents.response(
            PaymentOutcome(
                commandId: "cmd-1", provider: provider, account: .default,
                operation: "status", paymentId: "payment_812",
                status: .unknown, final: false,
                error: OutcomeError(code: code, message: "\(code) happened", errorClass: .notFound),
                attempts: 1, raw: ["error": "NOT_FOUND"]),
            time: time)
        #expect(response.event.type == "paybridge.payment.response.v1")
        #expect(response.routingKey == "\(provider.rawValue).status.response")
        #expect(response.event.data?["status"] == "unknown")
        #expect(plan == DeliveryPlan(events: [response], disposition: .ack, verdict: .answered(status: .unknown)))
    }

    // MARK: Helpers

    /// The plan once the executor ran the delivery's command with `execution` as its result.
    func decide(_ delivery: CommandDelivery, _ execution: CommandExecution) throws -> DeliveryPlan {
        rules.plan(executed: try command(delivery), delivery: delivery, execution: execution, at: time)
    }

    func command(_ delivery: CommandDelivery) throws -> PaymentCommand {
        try rules.decode(delivery).get()
    }

    func rejectionOf(_ delivery: CommandDelivery) throws -> CommandRejection {
        switch rules.decode(delivery) {
        case .success(let command): throw Unexpected(what: "decoded \(command.id)")
        case .failure(let rejection): return rejection
        }
    }
}
