import Foundation
import PayBridgeContract
import PaymentVocabulary
import StrictJSON

/// Payment-methods queries (``PaymentMethodsQuery``): every query that names a usable `reply_to` gets a reply —
/// FirstPay's methods or the error — and nothing else (no outcome event, no retry, no dead letter). A query without
/// one is dead-lettered (`invalid_command`) with the reason, since there is nobody to tell.
extension DeliveryRules {
    /// The plan for a query that cannot be asked: an error reply, or the dead-letter queue when there is no
    /// usable `reply_to`.
    package func plan(queryRejected rejected: QueryRejection, delivery: CommandDelivery, at time: Date) -> DeliveryPlan {
        let code = rejected.rejection.code
        guard let address = rejected.reply else {
            let deadLetter = CommandDeadLetter(
                delivery, sourceQueue: queue, reason: .invalidCommand, code: code,
                detail: rejected.rejection.message + "; no reply could be sent", failedEventId: nil, at: time)
            return DeliveryPlan(republish: .deadLetter(deadLetter), disposition: .ack,
                                verdict: .queryFailed(code: code, errorClass: .invalidCommand))
        }
        let reply = PaymentMethodsReply.failure(
            code: code, message: rejected.rejection.message, errorClass: .invalidCommand,
            queryId: rejected.rejection.commandId, merchantPaymentId: rejected.merchantPaymentId,
            account: rejected.account, to: address, at: time)
        return DeliveryPlan(reply: reply, disposition: .ack,
                            verdict: .queryFailed(code: code, errorClass: .invalidCommand))
    }

    /// The plan for a query naming a merchant account this deployment does not have: an error reply.
    package func plan(unknownAccountQuery query: PaymentMethodsQuery, at time: Date) -> DeliveryPlan {
        answer(query, error: ("UNKNOWN_ACCOUNT", unknownAccountMessage(query.account), .invalidCommand), at: time)
    }

    /// The plan once FirstPay was asked: its methods, or its failure, as the reply.
    package func plan(query: PaymentMethodsQuery, result: Result<JSONValue, ProviderError>, at time: Date)
        -> DeliveryPlan
    {
        switch result {
        case .success(let answer):
            let reply = PaymentMethodsReply.methods(answer, for: query, pii: eventPII, at: time)
            let verdict: DeliveryPlan.Verdict = if let error = reply.error {
                .queryFailed(code: error.code, errorClass: error.errorClass)
            } else {
                .queryAnswered(methods: reply.methodCount ?? 0)
            }
            return DeliveryPlan(reply: reply, disposition: .ack, verdict: verdict)
        case .failure(let error):
            return answer(query, error: (error.code.rawValue, error.message, error.errorClass), at: time)
        }
    }

    private func answer(_ query: PaymentMethodsQuery, error: (code: String, message: String, errorClass: ErrorClass),
                        at time: Date) -> DeliveryPlan {
        let reply = PaymentMethodsReply.failure(
            code: error.code, message: error.message, errorClass: error.errorClass, queryId: query.id,
            merchantPaymentId: query.merchantPaymentId, account: query.account, to: query.reply, at: time)
        return DeliveryPlan(reply: reply, disposition: .ack,
                            verdict: .queryFailed(code: error.code, errorClass: error.errorClass))
    }
}
