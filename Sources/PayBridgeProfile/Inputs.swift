import AMQP
import BenchSupport
import Amanpay
import Foundation
import PayBridgeContract
import PayBridgeRules
import PaymentVocabulary
import ProviderCore
import StrictJSON

/// What the stages work on: the command `paybridge-bench` publishes, as the worker receives it.
enum Inputs {
    /// The Amanpay account the bench's worker and the sandbox share (run-worker-bench.sh).
    static let merchantId = 1_758_378
    static let secret = Secret("s3cr3t")

    /// The body `paybridge-bench` publishes for command `id` (Sources/PayBridgeBench/main.swift, `command(_:)`),
    /// byte for byte.
    static func commandBody(_ id: String) -> [UInt8] { BenchCommand.payoutBody(id) }

    /// The AMQP properties `paybridge-bench` publishes it with.
    static func properties(_ id: String) -> AMQPProperties {
        var properties = AMQPProperties(contentType: CloudEvent.structuredContentType, persistent: true)
        properties.messageId = id
        return properties
    }

    /// Command `id` as the worker reads it from a delivery through `payments.commands`.
    static func delivery(_ id: String, tag: UInt64) -> CommandDelivery {
        CommandDelivery(body: commandBody(id), properties: properties(id),
                        routingKey: PaymentCommandKind.amanpayPayout.routingKey, deliveryTag: tag)
    }

    /// The worker's rules for the Amanpay queue as `paybridge worker` configures them by default (reconciliation
    /// on, so a payout left `processing` also schedules its first status check, as in the bench).
    static func rules() -> DeliveryRules {
        var rules = DeliveryRules(provider: .amanpay, maxAttempts: 5)
        rules.eventPII = .masked
        rules.reconcileSchedule = .default
        rules.accounts = [.default]
        return rules
    }

    /// A fresh worker memory as the processor makes it (default settings).
    static func memory() -> WorkerMemory {
        WorkerMemory(accounts: [.default], accountPause: (.seconds(5), .seconds(300)),
                     badSignatureThreshold: BadSignatureStreak.defaultThreshold, notificationWindow: .seconds(30))
    }

    /// The decoded command of a delivery (the profiler's input preparation; stage 2 measures this step).
    static func command(_ delivery: CommandDelivery, rules: DeliveryRules) -> PaymentCommand {
        guard case .command(.success(let command)) = rules.classify(delivery, receivedAt: Date()) else {
            fail("the bench command did not decode")
        }
        return command
    }

    /// The payout request the Amanpay executor makes of the bench command.
    static func payoutRequest(_ command: PaymentCommand) -> AmanpayPayoutRequest {
        let data = command.data
        return AmanpayPayoutRequest(
            paymentId: data["paymentId"]!.stringValue!, amount: DecimalAmount(data["amount"]!.stringValue!)!,
            currency: data["currency"]!.stringValue!, customerEmail: data["customerEmail"]!.stringValue!,
            customerName: data["customerName"]!.stringValue!,
            paymentMethod: AmanpayPaymentMethod(rawValue: data["paymentMethod"]!.stringValue!),
            recipientType: data["recipientType"]!.stringValue!)
    }

    static func amanpayConfiguration(baseURL: String) -> AmanpayConfiguration {
        AmanpayConfiguration(baseURL: baseURL, merchantId: merchantId, secretKey: secret)
    }
}

/// One command as it went through the real provider call: what the later stages take as input.
struct Executed: Sendable {
    var delivery: CommandDelivery
    var command: PaymentCommand
    var request: AmanpayPayoutRequest
    /// The sandbox's signed answer, as the transport returned it.
    var response: TransportResponse
    /// What the client made of it.
    var result: ProviderResult
}
