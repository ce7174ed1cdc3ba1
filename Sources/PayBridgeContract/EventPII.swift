import StrictJSON

/// How much of a customer's account and wallet numbers outcome events carry (`PAYBRIDGE_EVENT_PII`).
///
/// `masked` (the default): every such number in `data.raw` and `data.statusRead` keeps only its last 4 characters
/// (`185927571757184` → `***********7184`). `full`: the provider's bodies unmasked. Either way, signature material
/// (``signatureKeys``: FirstPay's `hash` and `publicKey`) is left out of the bodies events carry: an event consumer
/// must never hold what would let it replay a signed postback. Dead letters always keep the command's exact bytes,
/// so a replay sends what was sent.
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
    /// Object members that are signature material (FirstPay F2 `hash` and the `publicKey` it is checked with; a
    /// `signature`), removed at any depth in either setting.
    public static let signatureKeys: Set<String> = ["hash", "publicKey", "signature"]
    /// Depth past which nothing is looked at (the parser's own limit is lower; this bounds the walk by itself).
    static let maximumDepth = 64

    /// `value` as an event may carry it under this setting.
    public func apply(_ value: JSONValue) -> JSONValue {
        Self.walk(value, mask: self == .masked, depth: 0)
    }

    /// Removes ``signatureKeys`` from `value` and, when `mask`, masks the numbers (see ``numberKeys`` and
    /// ``fieldValueArrays``).
    static func walk(_ value: JSONValue, mask: Bool, depth: Int) -> JSONValue {
        guard depth < maximumDepth else { return .null }
        switch value {
        case .object(let object):
            var out: JSONObject = [:]
            out.reserveCapacity(object.count)
            for member in object.members where !signatureKeys.contains(member.key) {
                if mask, numberKeys.contains(member.key) {
                    out[member.key] = maskedLeaf(member.value)
                } else if mask, fieldValueArrays.contains(member.key), case .array(let items) = member.value {
                    out[member.key] = .array(items.map { item in
                        guard case .object(var field) = item else { return walk(item, mask: mask, depth: depth + 2) }
                        if let inner = field["value"] { field["value"] = maskedLeaf(inner) }
                        return .object(field)
                    })
                } else {
                    out[member.key] = walk(member.value, mask: mask, depth: depth + 1)
                }
            }
            return .object(out)
        case .array(let items):
            return .array(items.map { walk($0, mask: mask, depth: depth + 1) })
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
