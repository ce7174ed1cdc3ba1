import Foundation
import PayBridgeContract
import PaymentVocabulary
import StrictJSON

/// Turns provider results and errors into the contract's event data.
package enum OutcomeMapping {
    /// The provider's body as JSON for `data.raw` (a JSON string when it was not JSON, `null` when empty).
    package static func raw(_ body: String) -> JSONValue {
        guard !body.isEmpty else { return .null }
        if let json = try? JSONValue.parse(body) { return json }
        return .string(body)
    }

    /// The outcome data of a provider result; `raw` (default: the result's body) as `pii` allows.
    package static func outcome(
        _ result: ProviderResult, provider: Provider, commandId: String?, kind: PaymentCommandKind?, paymentId: String?,
        attempts: Int?, raw: JSONValue? = nil, pii: EventPII = .masked
    ) -> PaymentOutcome {
        PaymentOutcome(
            commandId: commandId, provider: provider, operation: kind?.operation,
            paymentId: result.merchantPaymentId ?? paymentId, providerPaymentId: result.providerPaymentId,
            providerOperationId: result.operationId, status: result.status, final: result.isFinal,
            providerStatus: result.providerStatus, amount: result.amount?.description, currency: result.currency,
            error: result.error,
            redirectUrl: result.redirectUrl, additionalFields: result.additionalFields, attempts: attempts,
            raw: pii.apply(raw ?? result.rawJSON ?? Self.raw(result.rawBody)),
            providerDetails: result.details)
    }

    /// `command.failed` data for a command that could not be executed: status `unknown`, not final (a command's
    /// failure says nothing about its payment; ``OutcomeEvents/commandFailed(_:time:source:fact:)`` holds to that).
    package static func failure(
        _ command: PaymentCommand, code: String, message: String, errorClass: ErrorClass, attempts: Int,
        raw: String? = nil, pii: EventPII = .masked
    ) -> PaymentOutcome {
        var outcome = PaymentOutcome(
            commandId: command.id, provider: command.provider, operation: command.operation,
            paymentId: command.paymentId, status: .unknown, final: false,
            amount: command.amount, currency: command.currency,
            error: OutcomeError(code: code, message: message, errorClass: errorClass), attempts: attempts,
            raw: pii.apply(raw.map(Self.raw) ?? .null))
        outcome.account = command.account
        return outcome
    }
}
