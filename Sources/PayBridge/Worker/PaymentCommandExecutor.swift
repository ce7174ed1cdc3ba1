import PayBridgeContract
import ProviderCore

/// Runs a validated command against its provider. One implementation per provider.
///
/// Implementations throw ``ProviderError`` for everything the provider or the network can cause, and
/// ``CommandDataError`` when the command's `data` cannot be turned into a request (which the schema should
/// already have prevented).
protocol PaymentCommandExecutor: Sendable {
    var provider: Provider { get }
    /// Executes `command`. With `statusFirst`, a create first reads the payment's status by the merchant's id
    /// and only sends the create when the provider says it does not exist (A5, F8): used for redeliveries,
    /// retries and command ids seen before, so a command seen twice never creates twice.
    func execute(_ command: PaymentCommand, statusFirst: Bool) async throws -> ProviderResult
    /// Verifies a stored callback again and reads its payment's status over the provider's authenticated API
    /// (issue 11: callbacks are notifications). Only signed values choose what is read; unsigned ones may only
    /// order the reads. Throws ``ProviderError``: `not_found` when the provider does not know the payment.
    func confirm(_ notification: CallbackNotification) async throws -> CallbackConfirmation
    /// Reads the status of a payment left open, for a reconciliation check (issue 11), by the merchant's payment id
    /// (and the provider's, when known). Throws ``ProviderError``.
    func check(_ check: ReconcileCheck) async throws -> ProviderResult
}

/// The command's `data` does not make a valid provider request (a field is missing or of the wrong kind).
struct CommandDataError: Error, CustomStringConvertible {
    var field: String
    var problem: String
    var description: String { "data.\(field): \(problem)" }
}

/// Typed reads of a command's `data` object.
struct CommandData {
    let data: JSONValue

    func string(_ field: String) throws -> String {
        guard let value = optionalString(field) else {
            throw CommandDataError(field: field, problem: "required")
        }
        return value
    }

    /// A string, or the literal text of a number (ids such as Amanpay's `transactionId` may be either, A8).
    func optionalString(_ field: String) -> String? {
        guard let value = data[field] else { return nil }
        if let text = value.stringValue { return text }
        if let number = value.numberValue { return number.text }
        return nil
    }

    func amount(_ field: String = "amount") throws -> DecimalAmount {
        let text = try string(field)
        guard let amount = DecimalAmount(text) else {
            throw CommandDataError(field: field, problem: "not a decimal amount")
        }
        return amount
    }

    func integer(_ field: String) throws -> Int {
        guard let text = optionalString(field), let value = Int(text) else {
            throw CommandDataError(field: field, problem: "must be an integer")
        }
        return value
    }

    func stringMap(_ field: String) throws -> [String: String] {
        guard let members = data[field]?.objectValue else {
            throw CommandDataError(field: field, problem: "must be an object")
        }
        var result: [String: String] = [:]
        for (key, value) in members {
            guard let text = value.stringValue else {
                throw CommandDataError(field: "\(field).\(key)", problem: "must be a string")
            }
            result[key] = text
        }
        return result
    }
}
