import Crypto
import PaymentVocabulary
public import ProviderCore
public import StrictJSON

/// Amanpay signatures: lowercase hex SHA-512 over concatenated values with the secret appended.
public enum AmanpaySignature {
    /// A1: `hex(SHA-512(UTF-8(values joined with no separator + secret)))`, lowercase.
    public static func sign(_ values: [String], secret: Secret) -> String {
        // Hashed piece by piece: the same bytes as the concatenation, without building it.
        var hasher = SHA512()
        func hash(_ value: String) {
            var value = value
            value.withUTF8 { hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }
        }
        for value in values { hash(value) }
        hash(secret.value)
        return hex(hasher.finalize())
    }

    /// A2's default field list: `transactionId`, `paymentID`, `status`, `amount`, `currency`.
    public static let defaultResponseFields = ["transactionId", "paymentID", "status", "amount", "currency"]

    /// A2: the values of a response or callback body that are signed, in `fields` order, skipping absent
    /// fields. `paymentID` also reads `paymentId` (A8); `amount` is rendered with exactly 2 decimals (A3).
    public static func responseValues(of body: JSONValue, fields: [String]) -> [String]? {
        var values: [String] = []
        values.reserveCapacity(fields.count)
        for field in fields {
            var value = body[field]
            if value == nil || value?.isNull == true {
                // A8: both spellings are the same field.
                switch field {
                case "paymentID": value = body["paymentId"]
                case "paymentId": value = body["paymentID"]
                default: break
                }
            }
            guard let value, !value.isNull else { continue }
            if field == "amount" {
                // A3: the amount is signed with exactly two decimals.
                guard let text = value.scalarText, let amount = DecimalAmount(text), let two = amount.twoDecimalText
                else { return nil }
                values.append(two)
            } else if let text = value.scalarText {
                values.append(text)
            } else if case .bool(let b) = value {
                values.append(b ? "true" : "false")
            } else {
                return nil
            }
        }
        return values
    }

    /// A2: signs a response or callback body (the sandbox's side of A2).
    public static func signResponse(_ body: JSONValue, fields: [String] = defaultResponseFields, secret: Secret) -> String {
        sign(responseValues(of: body, fields: fields) ?? [], secret: secret)
    }

    /// A2: verifies the `Authorization` header of a response or callback, case-insensitively and in
    /// constant time.
    public static func verifyResponse(
        _ body: JSONValue,
        authorization: String?,
        fields: [String] = defaultResponseFields,
        secret: Secret
    ) -> Bool {
        guard let authorization, let values = responseValues(of: body, fields: fields) else { return false }
        return constantTimeEqualsIgnoringCase(authorization.trimmingSpaces, sign(values, secret: secret))
    }

    /// Constant-time comparison of two hex strings, ASCII case-insensitive. Length is not secret.
    public static func constantTimeEqualsIgnoringCase(_ a: String, _ b: String) -> Bool {
        guard a.utf8.count == b.utf8.count else { return false }
        // Native strings' bytes are contiguous: a plain loop over two buffers, no iterators.
        let compared = a.utf8.withContiguousStorageIfAvailable { left in
            b.utf8.withContiguousStorageIfAvailable { right in differences(left, right) == 0 }
        }
        if let equal = compared ?? nil { return equal }
        return differences(a.utf8, b.utf8) == 0
    }

    /// The bits in which two equally long texts differ, letters compared case-insensitively, every byte visited.
    private static func differences(_ a: some Sequence<UInt8>, _ b: some Sequence<UInt8>) -> UInt8 {
        var diff: UInt8 = 0
        for (x, y) in zip(a, b) { diff |= lower(x) ^ lower(y) }
        return diff
    }

    @inline(__always) static func lower(_ c: UInt8) -> UInt8 { (c >= 0x41 && c <= 0x5A) ? c | 0x20 : c }

    static func hex(_ digest: some Sequence<UInt8>) -> String {
        let digits: StaticString = "0123456789abcdef"
        var out: [UInt8] = []
        out.reserveCapacity(128)
        digits.withUTF8Buffer { digits in
            for b in digest {
                out.append(digits[Int(b >> 4)])
                out.append(digits[Int(b & 0x0F)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while s.first == " " || s.first == "\t" { s.removeFirst() }
        while s.last == " " || s.last == "\t" { s.removeLast() }
        return String(s)
    }
}
