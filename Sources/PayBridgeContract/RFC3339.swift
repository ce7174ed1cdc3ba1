import Foundation

/// PayBridge's one way of writing a time: RFC 3339, UTC, milliseconds (`2026-11-21T06:00:01.250Z`). Used for
/// CloudEvents `time`, the dead-letter headers and the operator tools.
public enum RFC3339 {
    public static func string(from date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: .gmt))
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
