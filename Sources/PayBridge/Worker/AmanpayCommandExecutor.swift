import Amanpay
import PayBridgeContract
import PayBridgeRules
import PaymentVocabulary
import ProviderCore
import StrictJSON

/// Executes `amanpay.*` commands with ``AmanpayClient``.
package struct AmanpayCommandExecutor: PaymentCommandExecutor {
    let client: AmanpayClient

    package init(client: AmanpayClient) {
        self.client = client
    }

    var provider: Provider { .amanpay }

    package func execute(_ command: PaymentCommand, statusFirst: Bool) async throws -> ProviderResult {
        let data = CommandData(data: command.data)
        switch command.kind {
        case .amanpayPurchase:
            let request = try purchaseRequest(data)
            return try await client.purchase(request, statusFirst: statusFirst)
        case .amanpayPayout:
            let request = try payoutRequest(data)
            return try await client.payout(request, statusFirst: statusFirst)
        case .amanpayStatus:
            let type = AmanpayPaymentType(rawValue: try data.string("paymentType")) ?? .purchase
            return try await client.status(paymentId: try data.string("paymentId"), type: type)
        case .amanpaySpecify:
            return try await client.specify(
                transactionId: try data.string("transactionId"), operationId: try data.string("operationId"),
                additionalFields: try data.stringMap("additionalFields"), paymentId: data.optionalString("paymentId"))
        default:
            throw CommandDataError(field: "type", problem: "\(command.type) is not an Amanpay command")
        }
    }

    /// A7 + A6: the callback verified (A2), then `purchases/status` or `payouts/status` by its `paymentID`. The
    /// unsigned `paymentType` only decides which endpoint is asked first; the other is asked when the first says
    /// `TRANSACTION_NOT_FOUND`, and the event's operation is the one that found the payment.
    func confirm(_ notification: CallbackNotification) async throws -> CallbackConfirmation {
        let claim = try client.verifyCallback(body: notification.body, authorization: notification.signature)
        guard let paymentId = claim.merchantPaymentId else {
            // SPECIFICATION and REDIRECT exist for purchases only (§4).
            let purchaseOnly = ["SPECIFICATION", "REDIRECT"].contains(claim.providerStatus ?? "")
            return .unconfirmable(claim: claim, kind: purchaseOnly ? .amanpayPurchase : nil)
        }
        let hint = claim.rawJSON?["paymentType"]?.stringValue
        let order: [AmanpayPaymentType] = hint == AmanpayPaymentType.payout.rawValue
            ? [.payout, .purchase] : [.purchase, .payout]
        var notFound: ProviderError?
        for type in order {
            do {
                let read = try await client.status(paymentId: paymentId, type: type)
                return .confirmed(claim: claim, read: read, kind: type == .payout ? .amanpayPayout : .amanpayPurchase)
            } catch let error as ProviderError where error.code == .transactionNotFound {
                notFound = error
            }
        }
        throw notFound ?? ProviderError(
            provider: .amanpay, operation: "status", errorClass: .notFound, code: .transactionNotFound,
            message: "neither purchases/status nor payouts/status knows the payment")
    }

    /// A6: `purchases/status` or `payouts/status` (by the create's operation) by the merchant's `paymentId`.
    func check(_ check: ReconcileCheck) async throws -> ProviderResult {
        let type: AmanpayPaymentType = check.kind == .amanpayPayout ? .payout : .purchase
        return try await client.status(paymentId: check.paymentId, type: type)
    }

    private func purchaseRequest(_ data: CommandData) throws -> AmanpayPurchaseRequest {
        let method = data.optionalString("paymentMethod").map(AmanpayPaymentMethod.init(rawValue:))
        return AmanpayPurchaseRequest(
            paymentId: try data.string("paymentId"), amount: try data.amount(), currency: try data.string("currency"),
            customerEmail: try data.string("customerEmail"), customerId: data.optionalString("customerId"),
            customerName: data.optionalString("customerName"),
            customerKYCLevel: data.optionalString("customerKYCLevel"), paymentMethod: method,
            walletNumber: method.flatMap { data.optionalString($0.walletNumberField) },
            returnUrl: data.optionalString("returnUrl"), notifyUrl: data.optionalString("notifyUrl"),
            additionalFields: Self.additionalFields(data, of: .amanpayPurchase))
    }

    private func payoutRequest(_ data: CommandData) throws -> AmanpayPayoutRequest {
        AmanpayPayoutRequest(
            paymentId: try data.string("paymentId"), amount: try data.amount(), currency: try data.string("currency"),
            customerEmail: try data.string("customerEmail"), customerName: try data.string("customerName"),
            paymentMethod: AmanpayPaymentMethod(rawValue: try data.string("paymentMethod")),
            recipientType: try data.string("recipientType"),
            recipientMobileNumber: data.optionalString("recipientMobileNumber"),
            customerId: data.optionalString("customerId"), customerKYCLevel: data.optionalString("customerKYCLevel"),
            returnUrl: data.optionalString("returnUrl"), notifyUrl: data.optionalString("notifyUrl"),
            additionalFields: Self.additionalFields(data, of: .amanpayPayout))
    }

    /// The members of a purchase's or payout's `data` its schema does not name: Amanpay documents that more fields
    /// may exist, so the schemas allow them and PayBridge sends them on, in the order given (docs/integration.md).
    static func additionalFields(_ data: CommandData, of kind: PaymentCommandKind) -> [JSONMember] {
        let named = kind == .amanpayPurchase ? purchaseFields : payoutFields
        guard !named.isEmpty else { return [] }  // no schema to tell known from unknown: send nothing extra
        return (data.data.objectMembers ?? []).filter { !named.contains($0.key) }
    }

    /// The `data` members each schema names (its `$defs.data.properties`): one source of truth, the contract.
    private static let purchaseFields = namedFields(.amanpayPurchase)
    private static let payoutFields = namedFields(.amanpayPayout)

    private static func namedFields(_ kind: PaymentCommandKind) -> Set<String> {
        let properties = ContractSchemas.schema(forType: kind.type)?["$defs"]?["data"]?["properties"]
        return Set(properties?.objectMembers?.map(\.key) ?? [])
    }
}
