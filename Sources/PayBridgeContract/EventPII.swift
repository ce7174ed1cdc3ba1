/// How much of a customer's account and wallet numbers outcome events carry (`PAYBRIDGE_EVENT_PII`, issue 11).
///
/// `masked` (the default): every such number in `data.raw` and `data.statusRead` keeps only its last 4 characters
/// (`185927571757184` → `***********7184`). `full`: the provider's bodies unchanged. Dead letters always keep the
/// command's exact bytes, so a replay sends what was sent.
public enum EventPII: String, Sendable, CaseIterable {
    case masked
    case full

    /// Object members whose values are account, wallet or phone numbers, at any depth (Amanpay: A1 wallet fields,
    /// `recipientMobileNumber`, `customerAccountNumber`).
    public static let numberKeys: Set<String> = [
        "customerAccountNumber", "recipientMobileNumber", "bkashNumber", "nagadNumber", "jazzcashNumber",
        "easypaisaNumber",
    ]
    /// Arrays of `{key, value}` whose every `value` is customer input (FirstPay's wallet numbers, F4).
    public static let fieldValueArrays: Set<String> = ["clientFieldsValues"]
    /// Depth past which nothing is looked at (the parser's own limit is lower; this bounds the walk by itself).
    static let maximumDepth = 64

    /// `value` as an event may carry it under this setting.
    public func apply(_ value: JSONValue) -> JSONValue {
        self == .full ? value : Self.masked(value, depth: 0)
    }

    /// Masks the numbers in `value` (see ``numberKeys`` and ``fieldValueArrays``).
    static func masked(_ value: JSONValue, depth: Int) -> JSONValue {
        guard depth < maximumDepth else { return .null }
        switch value {
        case .object(let object):
            var out = object
            for member in object.members {
                if numberKeys.contains(member.key) {
                    out[member.key] = maskedLeaf(member.value)
                } else if fieldValueArrays.contains(member.key), case .array(let items) = member.value {
                    out[member.key] = .array(items.map { item in
                        guard case .object(var field) = item else { return masked(item, depth: depth + 2) }
                        if let inner = field["value"] { field["value"] = maskedLeaf(inner) }
                        return .object(field)
                    })
                } else {
                    out[member.key] = masked(member.value, depth: depth + 1)
                }
            }
            return .object(out)
        case .array(let items):
            return .array(items.map { masked($0, depth: depth + 1) })
        default:
            return value
        }
    }

    /// A number's text or a string, masked to its last 4 characters; anything else is dropped (`null`).
    static func maskedLeaf(_ value: JSONValue) -> JSONValue {
        if let text = value.stringValue { return .string(mask(text)) }
        if let number = value.numberValue { return .string(mask(number.text)) }
        return value == .null ? .null : .string("***")
    }

    static func mask(_ text: String) -> String {
        let visible = 4
        guard text.count > visible else { return String(repeating: "*", count: text.count) }
        return String(repeating: "*", count: text.count - visible) + text.suffix(visible)
    }
}
