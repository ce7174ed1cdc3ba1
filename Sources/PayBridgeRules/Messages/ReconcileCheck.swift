import AMQPValues
import Foundation
import PayBridgeContract
import PaymentVocabulary
import StrictJSON

/// One scheduled status check of a payment PayBridge left open (see docs/operations-runtime.md, "Reconciliation"): what the check must
/// read and what was known before it.
///
/// It travels as a small JSON body (PayBridge-internal) through a delay queue
/// (``Topology/reconcileQueue(_:delayMilliseconds:)``) back onto the provider's command queue, marked by
/// ``Topology/Headers/notification`` = `reconcile`, so it waits on the broker and any worker of the provider runs
/// it; nothing is kept in a process.
package struct ReconcileCheck: Equatable, Sendable {
    /// The value of ``Topology/Headers/notification`` that marks a check.
    package static let marker = "reconcile"
    /// A check body is a few hundred bytes; anything larger is not one of PayBridge's.
    package static let maximumBytes = 8192

    /// The create that left the payment open (`amanpay.purchase`, `amanpay.payout`, `firstpay.pay_in`,
    /// `firstpay.pay_out`); its provider is the check's.
    package var kind: PaymentCommandKind
    package var provider: Provider { kind.provider }
    /// The merchant account the command ran with: the check reads with the same account. A body
    /// without `account` (written before accounts existed) means `default`.
    package var account: MerchantAccount
    /// The command that left the payment open.
    package var commandId: String
    /// The merchant's payment id: what the status read asks by.
    package var paymentId: String
    /// The provider's payment id, once known (FirstPay reads by it as well).
    package var providerPaymentId: String?
    /// The last status PayBridge published (or observed) for the payment.
    package var status: PaymentStatus
    package var providerStatus: String?
    /// The command's `amount` and `currency`, when it had them: what a changed status is compared with
    /// (`data.amountMismatch`). Absent in checks written before they were carried.
    package var amount: String?
    package var currency: String?
    /// The check this message is, 1-based.
    package var step: Int
    /// RFC 3339: when PayBridge published the outcome that left the payment open.
    package var openSince: String

    /// Whether a delivery is a check (its ``Topology/Headers/notification`` header says so).
    package static func isCheck(_ delivery: CommandDelivery) -> Bool {
        delivery.properties.headers?[Topology.Headers.notification]?.stringValue == marker
    }

    /// The body, as JSON.
    package var body: [UInt8] {
        var o = JSONObject()
        o.reserveCapacity(12)  // every member below: no growing on the way
        o["provider"] = .string(provider.rawValue)
        o["commandId"] = .string(commandId)
        o["operation"] = .string(kind.operation)
        o["paymentId"] = .string(paymentId)
        o["status"] = .string(status.rawValue)
        o["step"] = .number(JSONNumber(step))
        o["openSince"] = .string(openSince)
        o["account"] = .string(account.name)
        if let providerPaymentId { o["providerPaymentId"] = .string(providerPaymentId) }
        if let providerStatus { o["providerStatus"] = .string(providerStatus) }
        if let amount { o["amount"] = .string(amount) }
        if let currency { o["currency"] = .string(currency) }
        return JSONValue.object(o).serialized()
    }

    /// The AMQP properties it is published with: persistent, its marker and original routing key
    /// `<provider>.reconcile`, `message_id` `reconcile:<step>:<commandId>`.
    package var properties: AMQPProperties {
        let headers: AMQPTable = [
            Topology.Headers.notification: .string(Self.marker),
            Topology.Headers.originalRoutingKey: .string(Topology.reconcileRoutingKey(provider)),
        ]
        let id = "reconcile:\(step):\(commandId)"
        return AMQPProperties(contentType: "application/json", headers: headers, persistent: true,
                              messageId: id.utf8.count <= AMQPProperties.maximumShortStringBytes ? id : nil,
                              appId: "paybridge")
    }

    /// The same check, one step later, with what the last read said.
    package func next(status: PaymentStatus, providerStatus: String?, providerPaymentId: String?) -> ReconcileCheck {
        var next = self
        next.step = step + 1
        next.status = status
        next.providerStatus = providerStatus
        next.providerPaymentId = providerPaymentId ?? self.providerPaymentId
        return next
    }

    package init(kind: PaymentCommandKind, account: MerchantAccount = .default, commandId: String, paymentId: String,
                 providerPaymentId: String? = nil, status: PaymentStatus, providerStatus: String? = nil,
                 amount: String? = nil, currency: String? = nil, step: Int, openSince: String) {
        self.kind = kind
        self.account = account
        self.commandId = commandId
        self.paymentId = paymentId
        self.providerPaymentId = providerPaymentId
        self.status = status
        self.providerStatus = providerStatus
        self.amount = amount
        self.currency = currency
        self.step = step
        self.openSince = openSince
    }
}

extension ReconcileCheck {
    /// Why a delivery marked as a check is not one.
    package struct Invalid: Error, Equatable, CustomStringConvertible {
        package var description: String
        package init(description: String) { self.description = description }
    }

    /// Reads a check from its body: bounded (``maximumBytes``, the standard JSON limits), every field checked.
    /// - Parameter provider: the provider whose queue it came from; the body must name the same one.
    package init(body: [UInt8], provider: Provider) throws(Invalid) {
        guard body.count <= Self.maximumBytes else { throw Invalid(description: "larger than \(Self.maximumBytes) bytes") }
        guard let json = try? JSONValue.parse(body), json.objectValue != nil else {
            throw Invalid(description: "not a JSON object")
        }
        func text(_ field: String, required: Bool = true) throws(Invalid) -> String? {
            guard let value = json[field] else {
                if required { throw Invalid(description: "\(field) is missing") }
                return nil
            }
            guard let text = value.stringValue, (1...256).contains(text.utf8.count) else {
                throw Invalid(description: "\(field) must be a string of 1...256 bytes")
            }
            return text
        }
        guard try text("provider") == provider.rawValue else {
            throw Invalid(description: "provider must be \(provider.rawValue), the queue's provider")
        }
        let operation = try text("operation")!
        guard let kind = PaymentCommandKind(provider: provider, operation: operation), kind.createsPayment else {
            throw Invalid(description: "operation must be one of \(provider.rawValue)'s creates")
        }
        guard let status = PaymentStatus(rawValue: try text("status")!), !status.isFinal else {
            throw Invalid(description: "status must be an open status")
        }
        guard let step = json["step"]?.numberValue.flatMap({ Int($0.text) }), (1...ReconcileSchedule.maximumSteps)
            .contains(step)
        else {
            throw Invalid(description: "step must be an integer in 1...\(ReconcileSchedule.maximumSteps)")
        }
        guard let openSince = try text("openSince").flatMap(CallbackNotification.timestamp) else {
            throw Invalid(description: "openSince must be an RFC 3339 UTC time")
        }
        var account = MerchantAccount.default
        if let name = try text("account", required: false) {
            guard let named = MerchantAccount(name) else {
                throw Invalid(description: "account must be an account name (a-z, 0-9, _, -; at most 32)")
            }
            account = named
        }
        let amount = try text("amount", required: false)
        guard amount.map({ DecimalAmount($0) != nil }) ?? true else {
            throw Invalid(description: "amount must be a decimal string")
        }
        self.init(kind: kind, account: account, commandId: try text("commandId")!,
                  paymentId: try text("paymentId")!, providerPaymentId: try text("providerPaymentId", required: false),
                  status: status, providerStatus: try text("providerStatus", required: false), amount: amount,
                  currency: try text("currency", required: false), step: step, openSince: openSince)
    }
}

/// A check on its way to its delay queue.
package struct ScheduledCheck: Equatable, Sendable {
    package var check: ReconcileCheck
    /// The delay queue (also the routing key on `payments.internal`).
    package var queue: String

    package init(check: ReconcileCheck, queue: String) {
        self.check = check
        self.queue = queue
    }
}
