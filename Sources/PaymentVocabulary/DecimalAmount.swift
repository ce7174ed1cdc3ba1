// An amount of money as exact decimal text. Never Double: "250.50" must be signed and sent as
// "250.50" (Amanpay A3) and "100.50" as "100.5" (FirstPay F5), which binary floating point cannot
// promise.

/// A non-negative or negative decimal amount that keeps the exact text it was created from.
///
/// Equality compares values (`250.5 == 250.50`); ``text`` keeps the original spelling.
public struct DecimalAmount: Sendable, Hashable, CustomStringConvertible {
    /// The text as given (a command's decimal string, or a JSON number as received).
    public let text: String
    let negative: Bool
    /// Integer digits without leading zeros ("0" for zero).
    let integerDigits: String
    /// Fraction digits without trailing zeros.
    let fractionDigits: String

    /// Parses `-?digits(.digits)?` with an optional exponent (`1e3`, as JSON allows).
    /// Returns `nil` for anything else (no spaces, no `+`, no thousands separators).
    public init?(_ text: String) {
        // Most amounts have no exponent: they are read in place, without building arrays (this runs several times
        // per command); an exponent, or text that is not contiguous UTF-8, takes the general path.
        switch text.utf8.withContiguousStorageIfAvailable({ Self.plainParts($0) }) {
        case .some(.parts(let negative, let integerDigits, let fractionDigits)):
            self.text = text
            self.integerDigits = integerDigits
            self.fractionDigits = fractionDigits
            self.negative = negative && !(integerDigits == "0" && fractionDigits.isEmpty)
        case .some(.invalid):
            return nil
        case .some(.exponent), .none:
            guard let amount = Self(generalForm: text) else { return nil }
            self = amount
        }
    }

    private enum PlainParse {
        case parts(negative: Bool, integerDigits: String, fractionDigits: String)
        case invalid
        /// An exponent follows the digits: ``init(generalForm:)`` reads it.
        case exponent
    }

    /// `-?digits(.digits)?`: its sign and its digits trimmed (integer digits without leading zeros, at least one;
    /// fraction digits without trailing zeros).
    private static func plainParts(_ utf8: UnsafeBufferPointer<UInt8>) -> PlainParse {
        func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }
        var i = 0
        let negative = !utf8.isEmpty && utf8[0] == UInt8(ascii: "-")
        if negative { i += 1 }
        let integerStart = i
        while i < utf8.count, isDigit(utf8[i]) { i += 1 }
        let integerEnd = i
        var fractionStart = i
        if i < utf8.count, utf8[i] == UInt8(ascii: ".") {
            i += 1
            fractionStart = i
            while i < utf8.count, isDigit(utf8[i]) { i += 1 }
            if i == fractionStart { return .invalid }
        }
        let fractionEnd = i
        if integerEnd == integerStart { return .invalid }
        if i < utf8.count, utf8[i] == UInt8(ascii: "e") || utf8[i] == UInt8(ascii: "E") { return .exponent }
        if i != utf8.count { return .invalid }
        var significantStart = integerStart
        while significantStart < integerEnd - 1, utf8[significantStart] == UInt8(ascii: "0") { significantStart += 1 }
        var significantEnd = fractionEnd
        while significantEnd > fractionStart, utf8[significantEnd - 1] == UInt8(ascii: "0") { significantEnd -= 1 }
        return .parts(
            negative: negative,
            integerDigits: String(decoding: UnsafeBufferPointer(rebasing: utf8[significantStart..<integerEnd]),
                                  as: UTF8.self),
            fractionDigits: String(decoding: UnsafeBufferPointer(rebasing: utf8[fractionStart..<significantEnd]),
                                   as: UTF8.self))
    }

    /// The general parse, exponent included (`1e3`, `2.5E-2`): the digits are shifted into place in arrays.
    init?(generalForm text: String) {
        let utf8 = Array(text.utf8)
        var i = 0
        var negative = false
        if i < utf8.count, utf8[i] == UInt8(ascii: "-") {
            negative = true
            i += 1
        }
        var intDigits: [UInt8] = []
        while i < utf8.count, utf8[i] >= 0x30, utf8[i] <= 0x39 {
            intDigits.append(utf8[i])
            i += 1
        }
        var fracDigits: [UInt8] = []
        if i < utf8.count, utf8[i] == UInt8(ascii: ".") {
            i += 1
            while i < utf8.count, utf8[i] >= 0x30, utf8[i] <= 0x39 {
                fracDigits.append(utf8[i])
                i += 1
            }
            if fracDigits.isEmpty { return nil }
        }
        if intDigits.isEmpty { return nil }
        var exponent = 0
        if i < utf8.count, utf8[i] == UInt8(ascii: "e") || utf8[i] == UInt8(ascii: "E") {
            i += 1
            var expNegative = false
            if i < utf8.count, utf8[i] == UInt8(ascii: "+") || utf8[i] == UInt8(ascii: "-") {
                expNegative = utf8[i] == UInt8(ascii: "-")
                i += 1
            }
            var digits = 0
            var value = 0
            while i < utf8.count, utf8[i] >= 0x30, utf8[i] <= 0x39 {
                value = value * 10 + Int(utf8[i] - 0x30)
                digits += 1
                i += 1
                if value > 400 { return nil }
            }
            if digits == 0 { return nil }
            exponent = expNegative ? -value : value
        }
        if i != utf8.count { return nil }
        // Shift the decimal point by the exponent.
        var all = intDigits + fracDigits
        var pointPosition = intDigits.count + exponent
        if pointPosition < 0 {
            all = Array(repeating: UInt8(ascii: "0"), count: -pointPosition) + all
            pointPosition = 0
        }
        if pointPosition > all.count {
            all += Array(repeating: UInt8(ascii: "0"), count: pointPosition - all.count)
        }
        // Trim by index (removing leading zeros one `removeFirst()` at a time was quadratic in the length).
        let intEnd = all[0..<pointPosition].firstIndex(where: { $0 != UInt8(ascii: "0") }) ?? pointPosition
        var intPart = Array(all[intEnd..<pointPosition])
        let fracEnd = (all[pointPosition...].lastIndex(where: { $0 != UInt8(ascii: "0") }) ?? (pointPosition - 1)) + 1
        let fracPart = Array(all[pointPosition..<fracEnd])
        if intPart.isEmpty { intPart = [UInt8(ascii: "0")] }
        self.text = text
        self.integerDigits = String(decoding: intPart, as: UTF8.self)
        self.fractionDigits = String(decoding: fracPart, as: UTF8.self)
        self.negative = negative && !(intPart == [UInt8(ascii: "0")] && fracPart.isEmpty)
    }

    public var description: String { text }

    /// `true` when the value is below zero.
    public var isNegative: Bool { negative }

    /// `true` when the value is zero.
    public var isZero: Bool { integerDigits == "0" && fractionDigits.isEmpty }

    /// Number of significant digits of the value (`0.01` has 1, `1000000.00` has 7).
    public var significantDigits: Int {
        let all = (integerDigits == "0" ? "" : integerDigits) + fractionDigits
        let trimmed = all.drop(while: { $0 == "0" })
        return max(trimmed.count, 1)
    }

    /// The value with exactly two decimals (`250.5` → `250.50`, `250` → `250.00`), or `nil` when it has
    /// more than two significant decimals (money is never rounded silently). Amanpay A1/A3.
    public var twoDecimalText: String? {
        guard fractionDigits.count <= 2 else { return nil }
        let frac = fractionDigits + String(repeating: "0", count: 2 - fractionDigits.count)
        return (negative ? "-" : "") + integerDigits + "." + frac
    }

    /// The shortest plain text of the value: trailing fractional zeros dropped, then a trailing `.`
    /// (`500.00` → `500`, `100.50` → `100.5`). For at most 15 significant digits and values ≥ 0.000001
    /// this is what JavaScript's `Number#toString` prints for the parsed number (FirstPay F5).
    public var minimalText: String {
        (negative ? "-" : "") + integerDigits + (fractionDigits.isEmpty ? "" : "." + fractionDigits)
    }

    /// `true` when ``minimalText`` is exactly what JavaScript prints for this amount (F5's range).
    public var isJavaScriptExact: Bool {
        if isZero { return true }
        if significantDigits > 15 { return false }
        // Values below 1e-6 print in exponent form in JavaScript.
        if integerDigits == "0" {
            let leadingZeros = fractionDigits.prefix(while: { $0 == "0" }).count
            if leadingZeros >= 6 { return false }
        }
        return integerDigits.count <= 21
    }

    public static func == (lhs: DecimalAmount, rhs: DecimalAmount) -> Bool {
        lhs.negative == rhs.negative && lhs.integerDigits == rhs.integerDigits
            && lhs.fractionDigits == rhs.fractionDigits
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(negative)
        hasher.combine(integerDigits)
        hasher.combine(fractionDigits)
    }
}
