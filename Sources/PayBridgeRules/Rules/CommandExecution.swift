import PaymentVocabulary

/// How a ``PaymentCommandExecutor`` call ended, as a value for ``DeliveryRules``.
package enum CommandExecution: Sendable {
    /// The provider answered (a decline or an unresolved `unknown` included).
    case answered(ProviderResult)
    /// The provider or the network failed (``ProviderError``).
    case providerFailed(ProviderError)
    /// The command's `data` does not make a valid provider request.
    case invalidData(CommandDataError)
}
