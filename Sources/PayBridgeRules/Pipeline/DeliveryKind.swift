import Foundation
import PayBridgeContract
import PaymentVocabulary
import StrictJSON

/// What a delivery on a provider's command queue is, decided once when it arrives
/// (``DeliveryRules/classify(_:receivedAt:)``); every kind then walks the same steps (``DeliveryRules/screen(_:delivery:at:)``
/// and ``DeliveryRules/admit(_:account:notificationKey:delivery:memory:now:)``, the provider call,
/// ``DeliveryRules/plan(_:delivery:at:)`` and ``DeliveryRules/adjust(_:after:delivery:account:memory:now:)``).
package enum DeliveryKind: Sendable {
    /// A command (a producer's, or PayBridge's own retry, put-back or replay of one), or why it is not one.
    case command(Result<PaymentCommand, CommandRejection>)
    /// A verified callback the callback endpoint stored: verified again and confirmed by a status read.
    case notification(CallbackNotification)
    /// A reconciliation check back from its delay queue, or why it is not one PayBridge wrote.
    case check(Result<ReconcileCheck, ReconcileCheck.Invalid>)
    /// An order service's payment-methods query (FirstPay only), or why it cannot be asked: answered with a reply,
    /// never with an outcome event.
    case query(Result<PaymentMethodsQuery, QueryRejection>)

    /// The word for logs and spans: the command's kind (`amanpay.purchase`), `callback`, `reconcile` or
    /// `firstpay.payment_methods`; `nil` for a command that could not be read.
    package var operation: String? {
        switch self {
        case .command(let decoded): (try? decoded.get())?.kind.rawValue
        case .notification: "callback"
        case .check: "reconcile"
        case .query: PaymentMethodsQuery.routingKey
        }
    }

    /// The command id, when one could be read (a callback notification has none).
    package var commandId: String? {
        switch self {
        case .command(.success(let command)): command.id
        case .command(.failure(let rejection)): rejection.commandId
        case .notification, .check(.failure): nil
        case .check(.success(let check)): check.commandId
        case .query(.success(let query)): query.id
        case .query(.failure(let rejection)): rejection.rejection.commandId
        }
    }

    /// The merchant account it names; `nil` when none could be read.
    package var account: MerchantAccount? {
        switch self {
        case .command(let decoded): (try? decoded.get())?.account
        case .notification(let notification): notification.account
        case .check(let read): (try? read.get())?.account
        case .query(.success(let query)): query.account
        case .query(.failure(let rejection)): rejection.account
        }
    }

    /// The command's CloudEvent (its trace context may be in the event), for a command that could be read.
    package var event: CloudEvent? {
        if case .command(.success(let command)) = self { return command.event }
        return nil
    }
}

/// What the provider call of a delivery came to, as a value for ``DeliveryRules/plan(_:delivery:at:)``.
package enum DeliveryExecution: Sendable {
    /// A command ran (``CommandExecution``).
    case command(PaymentCommand, CommandExecution)
    /// A callback notification was verified again and its payment read (or the read failed).
    case notification(CallbackNotification, Result<CallbackConfirmation, ProviderError>)
    /// A reconciliation check read its payment's status (or the read failed).
    case check(ReconcileCheck, Result<ProviderResult, ProviderError>)
    /// A payment-methods query asked FirstPay (its answer, or why there is none).
    case query(PaymentMethodsQuery, Result<JSONValue, ProviderError>)

    /// The provider's failure, when the call failed.
    package var providerError: ProviderError? {
        switch self {
        case .command(_, .providerFailed(let error)), .notification(_, .failure(let error)),
             .check(_, .failure(let error)), .query(_, .failure(let error)):
            error
        default:
            nil
        }
    }
}
