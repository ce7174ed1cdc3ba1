import PayBridgeContract
import PaymentVocabulary
import StrictJSON

/// The command's `data` does not make a valid provider request (a field is missing or of the wrong kind).
package struct CommandDataError: Error, CustomStringConvertible {
    package var field: String
    package var problem: String
    package init(field: String, problem: String) {
        self.field = field
        self.problem = problem
    }
    package var description: String { "data.\(field): \(problem)" }
}

/// Typed reads of a command's `data` object.
package struct CommandData {
    package let data: JSONValue
    package init(data: JSONValue) { self.data = data }

    package func string(_ field: String) throws -> String {
        guard let value = optionalString(field) else {
            throw CommandDataError(field: field, problem: "required")
        }
        return value
    }

    /// A string, or the literal text of a number (ids such as Amanpay's `transactionId` may be either, A8).
    package func optionalString(_ field: String) -> String? {
        guard let value = data[field] else { return nil }
        if let text = value.stringValue { return text }
        if let number = value.numberValue { return number.text }
        return nil
    }

    package func amount(_ field: String = "amount") throws -> DecimalAmount {
        let text = try string(field)
        guard let amount = DecimalAmount(text) else {
            throw CommandDataError(field: field, problem: "not a decimal amount")
        }
        return amount
    }

    package func integer(_ field: String) throws -> Int {
        guard let text = optionalString(field), let value = Int(text) else {
            throw CommandDataError(field: field, problem: "must be an integer")
        }
        return value
    }

    package func stringMap(_ field: String) throws -> [String: String] {
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
