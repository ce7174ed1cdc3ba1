import AMQPValues
import FirstPay
import Foundation
import PayBridgeRules
import PayBridgeTestKit
import PayBridgeContract
import PaymentVocabulary
import StrictJSON
import Testing

/// The worker's rules for a callback notification (callbacks are notifications, ordered truth), one test
/// per rule, as exact plans: no broker, no provider, no threads.
@Suite struct CallbackNotificationRulesTests {
    typealias Fixtures = CommandDeliveryFixtures
    let rules = DeliveryRules(provider: .amanpay, maxAttempts: 3)
    let time = Fixtures.time

    static func result(
        _ providerStatus: String, _ status: PaymentStatus, transactionId: String, paymentId: String?,
        raw: String
    ) -> ProviderResult {
        ProviderResult(
            provider: .amanpay, operation: "status", status: status, providerStatus: providerStatus,
            providerPaymentId: transactionId, merchantPaymentId: paymentId, amount: DecimalAmount("250.51"),
            currency: "BDT", rawBody: raw, rawJSON: try? JSONValue.parse(raw))
    }

    /// A forged callback with a moved field boundary: (6286, "1812") under the signature of (62861, "812").
    static let forgedClaim = result(
        "SUCCESS", .succeeded, transactionId: "6286", paymentId: "1812",
        raw: #"{"transactionId":"6286","paymentID":"1812","status":"SUCCESS","amount":250.51,"currency":"BDT"}"#)
    /// What the provider's status API says about payment 1812.
    static let read1812 = result(
        "REDIRECT", .requiresAction, transactionId: "70001", paymentId: "1812",
        raw: #"{"transactionId":"70001","paymentID":"1812","status":"REDIRECT","amount":250.51,"currency":"BDT"}"#)

    static func notification(_ id: String, signature: String? = "sig") -> CallbackNotification {
        CallbackNotification(provider: .amanpay, body: Array(#"{"evidence":true}"#.utf8), signature: signature,
                             receivedAt: Date(timeIntervalSince1970: 1_795_000_000), id: id)
    }

    /// The notification as a worker receives it from the provider's queue.
    static func delivery(_ notification: CallbackNotification, attempt: Int? = nil) -> CommandDelivery {
        var properties = notification.properties
        if let attempt { properties.headers?[Topology.Headers.attempt] = .int32(Int32(attempt)) }
        return CommandDelivery(body: notification.body, properties: properties,
                               routingKey: attempt == nil ? "payments.amanpay" : "amanpay", deliveryTag: 3,
                               exchange: attempt == nil ? Topology.internalExchange : Topology.retryReturnExchange)
    }

    func plan(_ notification: CallbackNotification, _ result: Result<CallbackConfirmation, ProviderError>,
              attempt: Int? = nil) -> DeliveryPlan {
        rules.plan(notification: notification, delivery: Self.delivery(notification, attempt: attempt),
                   result: result, at: time)
    }

    // MARK: Callbacks are notifications

    @Test func aConfirmedCallbackPublishesWhatTheStatusReadSaysWithTheCallbackAsEvidence() throws {
        let notification = Self.notification("n-1")
        let plan = plan(notification, .success(.confirmed(claim: Self.forgedClaim, read: Self.read1812,
                                                           kind: .amanpayPurchase)))
        #expect(plan.disposition == .ack && plan.republish == nil)
        #expect(plan.verdict == .callbackPublished(status: .requiresAction))
        let event = try #require(plan.events.first)
        #expect(plan.events.count == 1)
        #expect(event.event.type == "paybridge.payment.callback.v1" && event.routingKey == "amanpay.callback")
        let data = try #require(event.event.data)
        // The forged SUCCESS for 1812 is not what is published: the provider's REDIRECT is.
        #expect(data["status"] == "requires_action" && data["providerStatus"] == "REDIRECT")
        #expect(data["final"] == false)
        #expect(data["providerPaymentId"] == "70001" && data["paymentId"] == "1812")
        #expect(data["operation"] == "purchase")
        #expect(data["confirmedBy"] == "status_read")
        #expect(data["statusRead"] == Self.read1812.rawJSON)
        #expect(data["raw"] == Self.forgedClaim.rawJSON, "the callback stays as evidence")
        #expect(data["notificationId"] == "n-1")
        #expect(data["receivedAt"] == .string(notification.receivedAt))
        #expect(event.event.time == RFC3339.string(from: time), "time = when the status was observed")
    }

    @Test func unsignedFieldsOfTheCallbackChangeNeitherTheEventNorItsId() throws {
        var altered = Self.forgedClaim
        altered.rawJSON = try JSONValue.parse(
            #"{"transactionId":"6286","paymentID":"1812","status":"SUCCESS","amount":250.51,"currency":"BDT","#
                + #""paymentType":"payout","errorCode":"GENERAL_ERROR"}"#)
        altered.error = OutcomeError(code: "GENERAL_ERROR", message: "x", errorClass: .transient)
        let notification = Self.notification("n-1")
        let a = try #require(plan(notification, .success(.confirmed(
            claim: Self.forgedClaim, read: Self.read1812, kind: .amanpayPurchase))).events.first)
        let b = try #require(plan(notification, .success(.confirmed(
            claim: altered, read: Self.read1812, kind: .amanpayPurchase))).events.first)
        #expect(a.event.id == b.event.id)
        var aData = try #require(a.event.data?.objectValue), bData = try #require(b.event.data?.objectValue)
        aData["raw"] = nil
        bData["raw"] = nil
        #expect(aData == bData, "only the evidence differs")
        #expect(bData["error"] == nil)
    }

    // MARK: Ordered truth

    @Test func correctionsGetDistinctIdsAndTheSameObservationKeepsItsId() throws {
        let success = Self.result("SUCCESS", .succeeded, transactionId: "70001", paymentId: "1812", raw: "{}")
        let failed = Self.result("FAILED", .failed, transactionId: "70001", paymentId: "1812", raw: "{}")
        func id(_ notification: String, _ read: ProviderResult) throws -> String {
            try #require(plan(Self.notification(notification), .success(.confirmed(
                claim: read, read: read, kind: .amanpayPurchase))).events.first).event.id
        }
        let ids = [try id("n-1", success), try id("n-2", failed), try id("n-3", success)]
        #expect(Set(ids).count == 3, "SUCCESS → FAILED → SUCCESS: three facts, three ids")
        #expect(try id("n-1", success) == ids[0], "the same notification read again with the same answer")
        #expect(try id("n-1", failed) != ids[0], "the same notification, a different answer: a new fact")
    }

    // MARK: What is never published

    @Test func aPaymentTheProviderDoesNotKnowPublishesNothingAndIsDeadLettered() throws {
        let notification = Self.notification("n-9")
        let notFound = ProviderError(provider: .amanpay, operation: "status", errorClass: .notFound,
                                     code: .transactionNotFound, message: "No transfer with that id")
        let plan = plan(notification, .failure(notFound))
        #expect(plan.events.isEmpty)
        #expect(plan.verdict == .callbackNotPublished(code: "CALLBACK_PAYMENT_UNKNOWN", errorClass: .notFound))
        guard case .deadLetter(let deadLetter) = plan.republish else {
            Issue.record("expected a dead letter, got \(String(describing: plan.republish))")
            return
        }
        #expect(deadLetter.routingKey == "amanpay.callback" && deadLetter.body == notification.body)
        #expect(deadLetter.failedEventId == nil)
        let headers = deadLetter.properties.headers
        #expect(headers?[Topology.Headers.deadLetterCode]?.stringValue == "CALLBACK_PAYMENT_UNKNOWN")
        #expect(headers?[Topology.Headers.failedEventId] == nil)
        #expect(headers?[Topology.Headers.notification]?.stringValue == "callback", "a replay is a notification again")
    }

    @Test func withoutAPaymentIdOnlyANonFinalSignedClaimIsPublished() throws {
        let specification = Self.result("SPECIFICATION", .requiresAction, transactionId: "62861", paymentId: nil,
                                        raw: #"{"transactionId":62861,"status":"SPECIFICATION"}"#)
        let pending = plan(Self.notification("n-2"), .success(.unconfirmable(claim: specification,
                                                                            kind: .amanpayPurchase)))
        let event = try #require(pending.events.first)
        #expect(event.event.data?["confirmedBy"] == "signature")
        #expect(event.event.data?["status"] == "requires_action")
        #expect(event.event.data?["statusRead"] == nil)
        #expect(event.event.data?["paymentId"] == .null, "placed by providerPaymentId")
        #expect(event.event.data?["providerPaymentId"] == "62861")

        let success = Self.result("SUCCESS", .succeeded, transactionId: "62861", paymentId: nil, raw: "{}")
        let final = plan(Self.notification("n-3"), .success(.unconfirmable(claim: success, kind: nil)))
        #expect(final.events.isEmpty, "a success nobody can confirm is never published")
        #expect(final.verdict == .callbackNotPublished(code: "CALLBACK_NOT_CONFIRMABLE", errorClass: .notFound))
    }

    @Test func aSignatureOnlyCallbackPublishesItsUnsignedValuesOnlyAsUnverified() throws {
        // A2 signs transactionId and status of a SPECIFICATION callback; operationId, additional_fields,
        // redirectUrl and errorCode are not covered, so they are never published as facts.
        var claim = Self.result("SPECIFICATION", .requiresAction, transactionId: "62861", paymentId: nil,
                                raw: #"{"additional_fields":["Otp"],"operationId":29609,"transactionId":62861,"#
                                    + #""status":"SPECIFICATION","redirectUrl":"https://evil.example/pay"}"#)
        claim.amount = nil
        claim.currency = nil
        claim.operationId = "29609"
        claim.additionalFields = ["Otp"]
        claim.redirectUrl = "https://evil.example/pay"
        let event = try #require(plan(Self.notification("n-4"), .success(.unconfirmable(claim: claim,
                                                                                       kind: .amanpayPurchase)))
            .events.first)
        let data = try #require(event.event.data)
        #expect(data["providerOperationId"] == nil && data["additionalFields"] == nil && data["redirectUrl"] == nil)
        #expect(data["error"] == nil)
        #expect(data["unverified"] == ["providerOperationId": "29609", "additionalFields": ["Otp"],
                                       "redirectUrl": "https://evil.example/pay"])
        #expect(data["final"] == false)

        claim.redirectUrl = "https://evil.example/" + String(repeating: "x", count: 3000)
        let long = try #require(plan(Self.notification("n-5"), .success(.unconfirmable(claim: claim,
                                                                                      kind: .amanpayPurchase)))
            .events.first)
        #expect(long.event.data?["unverified"]?["redirectUrl"] == nil, "over 2,048 characters: only in raw")
        #expect(OutcomeEvents.validate(long.event) == [])
    }

    // MARK: Retries and pauses, as for commands

    @Test func aTransientReadFailureIsRetriedByTheBrokerThenGivenUpWithoutAnEvent() throws {
        let notification = Self.notification("n-4")
        let timeout = ProviderError(provider: .amanpay, operation: "status", errorClass: .transient, code: .timeout,
                                    message: "no answer")
        let first = plan(notification, .failure(timeout))
        #expect(first.events.isEmpty && first.verdict == .retryScheduled(code: "TIMEOUT"))
        guard case .retry(let retry) = first.republish else {
            Issue.record("expected a retry")
            return
        }
        #expect(retry.nextAttempt == 2)
        #expect(retry.properties.headers?[Topology.Headers.notification]?.stringValue == "callback")
        #expect(retry.properties.headers?[Topology.Headers.callbackSignature]?.stringValue == "sig")

        let last = plan(notification, .failure(timeout), attempt: 3)
        #expect(last.events.isEmpty)
        #expect(last.verdict == .callbackNotPublished(code: "TIMEOUT", errorClass: .retriesExhausted))
    }

    @Test func aConfigurationFailurePutsTheNotificationBackAndPausesTheProvider() {
        let invalidKey = ProviderError(provider: .amanpay, operation: "status", errorClass: .configuration,
                                       code: .init(rawValue: "INVALID_API_KEY"), message: "key")
        let plan = plan(Self.notification("n-5"), .failure(invalidKey))
        #expect(plan == DeliveryPlan(disposition: .putBackAndPause(reason: "configuration: INVALID_API_KEY"),
                                     verdict: .pausedForConfiguration(code: .init(rawValue: "INVALID_API_KEY"))))
    }

    // MARK: The stored notification

    @Test func aStoredNotificationReadsBackAsItWasStored() {
        let stored = Self.notification("5c1b0d1e-0000-4000-8000-000000000001")
        let delivery = Self.delivery(stored)
        #expect(CallbackNotification.isNotification(delivery))
        #expect(delivery.headers.problem == nil && delivery.originalRoutingKey == "amanpay.callback")
        let read = CallbackNotification(delivery: delivery, provider: .amanpay, now: Date())
        #expect(read == stored)
        // A command is not a notification, and a missing message id falls back to the body's digest.
        #expect(!CallbackNotification.isNotification(Fixtures.purchase()))
        var anonymous = delivery.properties
        anonymous.messageId = nil
        let fallback = CallbackNotification(
            delivery: CommandDelivery(body: stored.body, properties: anonymous, routingKey: "payments.amanpay",
                                      exchange: Topology.internalExchange),
            provider: .amanpay, now: Date())
        #expect(fallback.id == "body-sha256:" + EventID.sha256Hex(stored.body))
    }
}

/// `PAYBRIDGE_EVENT_PII` in the worker's rules: responses and callbacks carry masked numbers unless `full`.
@Suite struct EventPIIRulesTests {
    static let body = #"{"transactionId":"62861","paymentID":"p-1","status":"SUCCESS","amount":250.51,"#
        + #""currency":"BDT","customerAccountNumber":"185927571757184"}"#
    static let result = CallbackNotificationRulesTests.result(
        "SUCCESS", .succeeded, transactionId: "62861", paymentId: "p-1", raw: body)

    @Test func responsesAndCallbacksMaskAccountNumbersUnlessFullIsChosen() throws {
        var rules = DeliveryRules(provider: .amanpay, maxAttempts: 3)
        let command = try #require(try? rules.decode(CommandDeliveryFixtures.status()).get())
        func events(_ rules: DeliveryRules) -> [OutcomeMessage] {
            let response = rules.plan(executed: command, delivery: CommandDeliveryFixtures.status(),
                                      execution: .answered(Self.result), at: CommandDeliveryFixtures.time)
            let notification = CallbackNotificationRulesTests.notification("n-1")
            let callback = rules.plan(
                notification: notification, delivery: CallbackNotificationRulesTests.delivery(notification),
                result: .success(.confirmed(claim: Self.result, read: Self.result, kind: .amanpayPurchase)),
                at: CommandDeliveryFixtures.time)
            return response.events + callback.events
        }
        let masked = events(rules)
        #expect(masked.count == 2)
        for event in masked {
            #expect(event.event.data?["raw"]?["customerAccountNumber"] == "***********7184")
            #expect(!String(decoding: event.body, as: UTF8.self).contains("185927571757184"))
        }
        #expect(masked[1].event.data?["statusRead"]?["customerAccountNumber"] == "***********7184")
        rules.eventPII = .full
        for event in events(rules) {
            #expect(event.event.data?["raw"]?["customerAccountNumber"] == "185927571757184")
        }
    }
}

/// A provider answer naming another amount than the command is flagged in the event.
@Suite struct AmountMismatchRulesTests {
    @Test func aDifferentProviderAmountIsFlaggedAndTheSameAmountWrittenDifferentlyIsNot() throws {
        let rules = DeliveryRules(provider: .amanpay, maxAttempts: 3)
        let delivery = CommandDeliveryFixtures.purchase()  // amount "250.51"
        let command = try #require(try? rules.decode(delivery).get())
        func event(_ amount: String) throws -> OutcomeMessage {
            var result = CallbackNotificationRulesTests.result(
                "PENDING", .processing, transactionId: "1", paymentId: "payment_812", raw: "{}")
            result.amount = DecimalAmount(amount)
            let plan = rules.plan(executed: command, delivery: delivery, execution: .answered(result),
                                  at: CommandDeliveryFixtures.time)
            return try #require(plan.events.first)
        }
        let different = try event("2505.10")
        #expect(different.event.data?["amountMismatch"] == ["command": "250.51", "commandCurrency": "BDT",
                                                            "provider": "2505.10", "providerCurrency": "BDT"])
        #expect(OutcomeEvents.validate(different.event).isEmpty)
        #expect(try event("250.510").event.data?["amountMismatch"] == nil, "the same decimal")
    }

    @Test func aDifferentProviderCurrencyIsFlaggedEvenForTheSameAmount() throws {
        let rules = DeliveryRules(provider: .amanpay, maxAttempts: 3)
        let delivery = CommandDeliveryFixtures.purchase()  // 250.51 BDT
        let command = try #require(try? rules.decode(delivery).get())
        var result = CallbackNotificationRulesTests.result(
            "SUCCESS", .succeeded, transactionId: "1", paymentId: "payment_812", raw: "{}")
        result.currency = "PKR"
        let plan = rules.plan(executed: command, delivery: delivery, execution: .answered(result),
                              at: CommandDeliveryFixtures.time)
        let data = try #require(plan.events.first?.event.data)
        #expect(data["status"] == "succeeded")
        #expect(data["amountMismatch"] == ["command": "250.51", "commandCurrency": "BDT", "provider": "250.51",
                                           "providerCurrency": "PKR"])
    }

    @Test func aCallbackWhoseSignedMoneyDiffersFromTheStatusReadIsFlagged() throws {
        let rules = DeliveryRules(provider: .amanpay, maxAttempts: 3)
        let claim = CallbackNotificationRulesTests.result(
            "SUCCESS", .succeeded, transactionId: "62861", paymentId: "payment_812", raw: "{}")
        var read = claim
        read.amount = DecimalAmount("25.51")
        let notification = CallbackNotificationRulesTests.notification("n-9")
        func data(_ read: ProviderResult) -> JSONValue? {
            rules.plan(notification: notification, delivery: CallbackNotificationRulesTests.delivery(notification),
                       result: .success(.confirmed(claim: claim, read: read, kind: .amanpayPurchase)),
                       at: CommandDeliveryFixtures.time).events.first?.event.data
        }
        #expect(data(read)?["amountMismatch"] == ["callback": "250.51", "callbackCurrency": "BDT", "provider": "25.51",
                                                  "providerCurrency": "BDT"])
        #expect(data(read)?["status"] == "succeeded", "published, flagged: it is what the provider said")
        #expect(data(claim)?["amountMismatch"] == nil)
    }
}

/// FirstPay signs nested objects as `[object Object]` (F1), so `attachment.url` and `clientFieldsValues` can be
/// altered under a valid signature: the event takes them from the status read, never from the postback.
@Suite struct FirstPayNestedFieldsRulesTests {
    /// A FirstPay body as the client reads it.
    static func result(_ raw: String) -> ProviderResult {
        FirstPayPayment(json: try! JSONValue.parse(raw)).result(operation: "status", httpStatus: 200, rawBody: raw)
    }

    @Test func alteredNestedObjectsInAPostbackNeverReachTheEventsNamedFields() throws {
        let rules = DeliveryRules(provider: .firstpay, maxAttempts: 3)
        let altered = Self.result(#"{"id":"3f6c","status":"SUCCESS","attachment":{"id":"m-1","url":"https://evil.example/x"},"#
            + #""clientFieldsValues":[{"key":"wallet","value":"01999999999"}]}"#)
        let read = Self.result(#"{"id":"3f6c","status":"SUCCESS","attachment":{"id":"m-1","url":"https://cdn.example/1.png"},"#
            + #""clientFieldsValues":[{"key":"wallet","value":"01712345678"}]}"#)
        var notification = CallbackNotificationRulesTests.notification("n-7", signature: nil)
        notification.provider = .firstpay
        let delivery = CommandDelivery(body: notification.body, properties: notification.properties,
                                       routingKey: "payments.firstpay", exchange: Topology.internalExchange)
        let plan = rules.plan(notification: notification, delivery: delivery,
                              result: .success(.confirmed(claim: altered, read: read, kind: .firstpayPayIn)),
                              at: CommandDeliveryFixtures.time)
        let data = try #require(plan.events.first?.event.data)
        #expect(data["attachment"]?["url"] == "https://cdn.example/1.png")
        #expect(data["statusRead"]?["clientFieldsValues"]?.arrayValue?.first?["value"] == "*******5678")
        #expect(data["raw"]?["attachment"]?["url"] == "https://evil.example/x", "the postback stays as evidence")
    }
}
