import ProviderCore
public import StrictJSON

/// Turns a body (without `hash`) into the string that FirstPay signs. A strategy, because FirstPay's newer
/// signature format is unpublished (F1): the documented one is ``JavaScriptTemplateCanonicalizer``.
public protocol FirstPayCanonicalizer: Sendable {
    /// The canonical string of the top-level members of a body, `hash` already removed.
    func canonicalString(of members: [JSONMember]) -> String
}

/// F1, the documented (older) format: every top-level key except `hash` (`publicKey` included), sorted by
/// UTF-16 code units, rendered `key=value` the way a JavaScript template literal renders the value, joined
/// with `|`.
public struct JavaScriptTemplateCanonicalizer: FirstPayCanonicalizer {
    public init() {}

    public func canonicalString(of members: [JSONMember]) -> String {
        let sorted = members.filter { $0.key != "hash" }.sorted { a, b in
            a.key.utf16.lexicographicallyPrecedes(b.key.utf16)
        }
        var out = ""
        for (i, m) in sorted.enumerated() {
            if i > 0 { out += "|" }
            out += m.key
            out += "="
            out += Self.render(m.value)
        }
        return out
    }

    /// F1 value rendering: strings raw, numbers as `Number#toString`, `true`/`false`, `null`, arrays joined
    /// by `,` (null elements empty), objects `[object Object]`.
    public static func render(_ value: JSONValue) -> String {
        switch value {
        case .string(let s): return s
        case .number(let n): return JavaScriptNumber.string(fromJSONNumber: n.text)
        case .bool(let b): return b ? "true" : "false"
        case .null: return "null"
        case .object: return "[object Object]"
        case .array(let elements):
            return elements.map { e -> String in
                if case .null = e { return "" }  // Array#join renders null and undefined as empty text
                return render(e)
            }.joined(separator: ",")
        }
    }
}

/// JavaScript's `Number#toString` (ECMA-262 Number::toString, radix 10) for a JSON number's text.
public enum JavaScriptNumber {
    /// Renders the number the way JavaScript prints the parsed IEEE-754 double: `500.00` → `500`,
    /// `100.50` → `100.5`, `1e21` → `1e+21`, `0.0000001` → `1e-7`.
    public static func string(fromJSONNumber text: String) -> String {
        guard let d = Double(text), d.isFinite else { return text }
        if d == 0 { return "0" }
        let negative = d < 0
        // Swift prints the shortest digits that round-trip, as JavaScript does; only the layout differs.
        let desc = (negative ? -d : d).description
        var mantissa = Substring(desc)
        var exponent = 0
        if let e = desc.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            mantissa = desc[..<e]
            exponent = Int(desc[desc.index(after: e)...]) ?? 0
        }
        let parts = mantissa.split(separator: ".", omittingEmptySubsequences: false)
        let intPart = parts[0]
        let fracPart = parts.count > 1 ? parts[1] : ""
        var digits = Array(intPart + fracPart)
        var n = intPart.count + exponent
        while digits.first == "0" {
            digits.removeFirst()
            n -= 1
        }
        while digits.last == "0" { digits.removeLast() }
        let k = digits.count
        let s = String(digits)
        var out: String
        if k <= n && n <= 21 {
            out = s + String(repeating: "0", count: n - k)
        } else if 0 < n && n <= 21 {
            out = String(digits[0..<n]) + "." + String(digits[n...])
        } else if -6 < n && n <= 0 {
            out = "0." + String(repeating: "0", count: -n) + s
        } else {
            let e = n - 1
            let expText = (e < 0 ? "-" : "+") + String(abs(e))
            out = k == 1 ? s + "e" + expText : String(digits[0]) + "." + String(digits[1...]) + "e" + expText
        }
        return negative ? "-" + out : out
    }
}
