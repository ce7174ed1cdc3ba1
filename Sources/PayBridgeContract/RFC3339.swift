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
