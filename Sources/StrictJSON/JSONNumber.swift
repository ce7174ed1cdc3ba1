/// A JSON number kept as its literal text (`250.50`, `-1e3`), compared by exact decimal value.
///
/// There is deliberately no conversion to `Double`: amounts are decimals. Use ``text`` to hand the number on.
public struct JSONNumber: Sendable, Hashable, CustomStringConvertible {
    /// The literal exactly as it appeared in the JSON text (RFC 8259 number grammar).
    public let text: String

    /// Wraps a literal. Returns `nil` unless `text` matches the JSON number grammar exactly.
    /// - Parameter text: e.g. `"250.50"`.
    public init?(_ text: String) {
        guard Self.isValidLiteral(Array(text.utf8)) else { return nil }
        self.text = text
    }

    /// An integer number.
    /// - Parameter value: the integer.
    public init(_ value: Int) { self.text = String(value) }

    init(unchecked text: String) { self.text = text }

    /// Wraps a literal the caller wrote itself (an integer, a `DecimalAmount`'s text), so it is known to be valid;
    /// never text from outside (use ``init(_:)-(String)``).
    public init(trusted text: String) {
        assert(Self.isValidLiteral(Array(text.utf8)), "not a JSON number literal")
        self.text = text
    }


    public var description: String { text }

    /// True when the value has no fractional part (`12`, `12.0`, `1.2e1`): JSON Schema's `integer`.
    public var isInteger: Bool {
        let d = decomposed
        return d.digits.isEmpty || d.exponent >= 0
    }

    /// The value as an `Int`, when it is an integer that fits.
    public var intValue: Int? {
        let d = decomposed
        guard d.digits.isEmpty || d.exponent >= 0 else { return nil }
        if d.digits.isEmpty { return 0 }
        guard d.digits.count + d.exponent <= 18 else { return nil }
        var v = 0
        for c in d.digits { v = v * 10 + Int(c - UInt8(ascii: "0")) }
        for _ in 0..<d.exponent { v *= 10 }
        return d.negative ? -v : v
    }

    /// Exact decimal comparison.
    /// - Parameter other: the number to compare with.
    /// - Returns: -1, 0 or 1 as `self` is less than, equal to or greater than `other`.
    public func compare(to other: JSONNumber) -> Int {
        let a = decomposed
        let b = other.decomposed
        let aZero = a.digits.isEmpty
        let bZero = b.digits.isEmpty
        if aZero && bZero { return 0 }
        let aSign = aZero ? 0 : (a.negative ? -1 : 1)
        let bSign = bZero ? 0 : (b.negative ? -1 : 1)
        if aSign != bSign { return aSign < bSign ? -1 : 1 }
        // Same sign, both non-zero: compare magnitudes, then flip for negatives.
        let magnitude: Int = {
            let aTop = a.digits.count + a.exponent
            let bTop = b.digits.count + b.exponent
            if aTop != bTop { return aTop < bTop ? -1 : 1 }
            let n = max(a.digits.count, b.digits.count)
            for i in 0..<n {
                let x = i < a.digits.count ? a.digits[i] : UInt8(ascii: "0")
                let y = i < b.digits.count ? b.digits[i] : UInt8(ascii: "0")
                if x != y { return x < y ? -1 : 1 }
            }
            return 0
        }()
        return aSign < 0 ? -magnitude : magnitude
    }

    /// value = (negative ? -1 : 1) × digits × 10^exponent, with no leading or trailing zeros in `digits`
    /// (empty digits = zero).
    var decomposed: (negative: Bool, digits: [UInt8], exponent: Int) {
        let bytes = Array(text.utf8)
        var i = 0
        var negative = false
        if i < bytes.count, bytes[i] == UInt8(ascii: "-") {
            negative = true
            i += 1
        }
        var digits: [UInt8] = []
        var exponent = 0
        while i < bytes.count, isDigit(bytes[i]) {
            digits.append(bytes[i])
            i += 1
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
            i += 1
            while i < bytes.count, isDigit(bytes[i]) {
                digits.append(bytes[i])
                exponent -= 1
                i += 1
            }
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            i += 1
            var expNegative = false
            if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") {
                expNegative = bytes[i] == UInt8(ascii: "-")
                i += 1
            }
            var e = 0
            while i < bytes.count, isDigit(bytes[i]) {
                // Clamp absurd exponents instead of overflowing; ordering stays correct.
                if e < 1_000_000_000 { e = e * 10 + Int(bytes[i] - UInt8(ascii: "0")) }
                i += 1
            }
            exponent += expNegative ? -e : e
        }
        // Trim by index: removing leading zeros one `removeFirst()` at a time was quadratic in the literal's length.
        guard let first = digits.firstIndex(where: { $0 != UInt8(ascii: "0") }) else { return (negative, [], 0) }
        let last = digits.lastIndex(where: { $0 != UInt8(ascii: "0") }) ?? first
        exponent += digits.count - 1 - last
        if first > 0 || last < digits.count - 1 { digits = Array(digits[first...last]) }
        return (negative, digits, exponent)
    }

    /// RFC 8259: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
    static func isValidLiteral(_ b: [UInt8]) -> Bool {
        var i = 0
        if i < b.count, b[i] == UInt8(ascii: "-") { i += 1 }
        guard i < b.count else { return false }
        if b[i] == UInt8(ascii: "0") {
            i += 1
        } else if isDigit(b[i]) {
            while i < b.count, isDigit(b[i]) { i += 1 }
        } else {
            return false
        }
        if i < b.count, b[i] == UInt8(ascii: ".") {
            i += 1
            guard i < b.count, isDigit(b[i]) else { return false }
            while i < b.count, isDigit(b[i]) { i += 1 }
        }
        if i < b.count, b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") {
            i += 1
            if i < b.count, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") { i += 1 }
            guard i < b.count, isDigit(b[i]) else { return false }
            while i < b.count, isDigit(b[i]) { i += 1 }
        }
        return i == b.count
    }
}

@inline(__always) func isDigit(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }

