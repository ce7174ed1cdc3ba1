import Foundation

/// PayBridge's one way of writing a time: RFC 3339, UTC, milliseconds (`2026-11-21T06:00:01.250Z`). Used for
/// CloudEvents `time`, the dead-letter headers and the operator tools.
public enum RFC3339 {
    public static func string(from date: Date) -> String {
        // Every event carries one: written by hand for 1900–9999 (Foundation's formatter copied a calendar and
        // cost two allocations and a few microseconds a time); Foundation's for the rest, where its calendar turns
        // Julian. The same text either way, milliseconds truncated (RFC3339Tests compares them).
        let reference = date.timeIntervalSinceReferenceDate
        guard reference >= -3_187_296_000, reference < 252_423_993_600 else { return foundationString(from: date) }
        let whole = reference.rounded(.down)
        let milliseconds = min(999, Int(((reference - whole) * 1000).rounded(.down)))
        let seconds = Int(whole) + 978_307_200  // since 1970
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        let (year, month, day) = civilDate(daysSince1970: days)
        return String(unsafeUninitializedCapacity: 24) { buffer in
            func put(_ value: Int, _ digits: Int, at offset: Int) {
                var value = value
                for index in stride(from: offset + digits - 1, through: offset, by: -1) {
                    buffer[index] = UInt8(ascii: "0") + UInt8(value % 10)
                    value /= 10
                }
            }
            put(year, 4, at: 0); buffer[4] = UInt8(ascii: "-"); put(month, 2, at: 5); buffer[7] = UInt8(ascii: "-")
            put(day, 2, at: 8); buffer[10] = UInt8(ascii: "T"); put(secondOfDay / 3600, 2, at: 11)
            buffer[13] = UInt8(ascii: ":"); put(secondOfDay / 60 % 60, 2, at: 14); buffer[16] = UInt8(ascii: ":")
            put(secondOfDay % 60, 2, at: 17); buffer[19] = UInt8(ascii: "."); put(milliseconds, 3, at: 20)
            buffer[23] = UInt8(ascii: "Z")
            return 24
        }
    }

    /// Foundation's ISO 8601 text of `date` (UTC, milliseconds): what ``string(from:)`` writes by hand.
    static func foundationString(from date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: .gmt))
    }

    /// The proleptic Gregorian (year, month, day) of a day count since 1970-01-01 (H. Hinnant's `civil_from_days`).
    static func civilDate(daysSince1970 days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// An AMQP timestamp (whole seconds since 1970, as in `x-death`).
    public static func string(secondsSince1970 seconds: UInt64) -> String {
        string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
    }
}

extension RFC3339 {
    /// Parses an RFC 3339 date-time (`2026-12-06T10:00:00Z`, `2026-12-06T10:00:00.250+06:00`; `T` and `Z` may be
    /// lower case; up to 9 fraction digits, of which milliseconds count). Strict: every field has its fixed number of
    /// digits and is in range, and an offset is required. One parser: ``RFC3339Instant``.
    /// - Returns: the instant, or `nil` when `text` is not an RFC 3339 date-time.
    public static func date(from text: String) -> Date? {
        RFC3339Instant(text).map {
            Date(timeIntervalSince1970: TimeInterval($0.seconds) + TimeInterval($0.nanoseconds / 1_000_000) / 1000)
        }
    }
}
