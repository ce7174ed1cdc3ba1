public import AMQP

/// How long the event history stream (``Topology/historyStream``, `payments.history`) keeps events: its RabbitMQ
/// stream retention, from `PAYBRIDGE_HISTORY_MAX_AGE` and `PAYBRIDGE_HISTORY_MAX_BYTES`.
///
/// - ``maxAge`` (`x-max-age`, default `7D`): RabbitMQ's syntax, a positive whole number and one unit `Y` (365 days),
///   `M` (30 days), `D`, `h`, `m` or `s`, case-sensitive (`M` is months, `m` minutes).
/// - ``maxBytes`` (`x-max-length-bytes`): unset by default, so only the age limits the stream; set it to cap the
///   disk the stream may use. When both are set, whichever is reached first removes events.
///
/// RabbitMQ applies retention to whole segment files (500 MB by default), so events may stay somewhat longer than
/// the limits, never shorter. The arguments are fixed when the stream is created; to change the retention of an
/// existing stream use a policy (docs/operations-tools.md, "Event history").
public struct HistoryRetention: Sendable, Hashable, CustomStringConvertible {
    /// `x-max-age` as declared, normalised (no leading zeros), e.g. `7D`.
    public let maxAge: String
    /// `x-max-length-bytes`; `nil`: no size limit (age only).
    public let maxBytes: Int?

    /// `7D`, no size limit.
    public static let `default` = HistoryRetention(checkedMaxAge: "7D", maxBytes: nil)

    /// The units RabbitMQ accepts in `x-max-age`, with their length in seconds.
    static let units: [Character: Int64] = ["Y": 365 * 86_400, "M": 30 * 86_400, "D": 86_400, "h": 3_600, "m": 60,
                                            "s": 1]

    private init(checkedMaxAge: String, maxBytes: Int?) {
        self.maxAge = checkedMaxAge
        self.maxBytes = maxBytes
    }

    /// - Parameters:
    ///   - maxAge: RabbitMQ's `x-max-age` syntax (see the type's documentation).
    ///   - maxBytes: a positive number of bytes, or `nil` for no size limit.
    /// - Throws: ``HistoryRetentionError`` saying what is wrong.
    public init(maxAge: String = "7D", maxBytes: Int? = nil) throws(HistoryRetentionError) {
        guard let age = Self.normalizedMaxAge(maxAge) else {
            throw HistoryRetentionError(
                "\"\(maxAge.prefix(32))\" is not a RabbitMQ max-age: a positive whole number followed by Y, M, D, h, "
                    + "m or s (e.g. 7D, 12h, 1M; D is days, d is not accepted)")
        }
        if let maxBytes, maxBytes < 1 {
            throw HistoryRetentionError("the byte limit must be a positive whole number (got \(maxBytes))")
        }
        self.init(checkedMaxAge: age, maxBytes: maxBytes)
    }

    /// `text` in RabbitMQ's `x-max-age` syntax, without leading zeros; `nil` when it is not in it. At most 9 digits.
    static func normalizedMaxAge(_ text: String) -> String? {
        guard let unit = text.last, units[unit] != nil else { return nil }
        let digits = text.dropLast()
        guard (1...9).contains(digits.count), digits.allSatisfy({ ("0"..."9").contains($0) }),
            let number = Int(digits), number > 0
        else { return nil }
        return "\(number)\(unit)"
    }

    /// ``maxAge`` in seconds, as RabbitMQ counts it (a month is 30 days, a year 365).
    public var maxAgeSeconds: Int64 {
        Int64(maxAge.dropLast())! * Self.units[maxAge.last!]!
    }

    /// The stream's retention arguments: `x-max-age`, and `x-max-length-bytes` when set.
    public var arguments: AMQPTable {
        var table: AMQPTable = ["x-max-age": .string(maxAge)]
        if let maxBytes { table["x-max-length-bytes"] = .int64(Int64(maxBytes)) }
        return table
    }

    /// `max-age 7D` or `max-age 7D, max-length-bytes 20000000000`.
    public var description: String {
        "max-age \(maxAge)" + (maxBytes.map { ", max-length-bytes \($0)" } ?? "")
    }
}

/// A retention setting RabbitMQ would not accept.
public struct HistoryRetentionError: Error, Sendable, Equatable, CustomStringConvertible {
    public let reason: String
    init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}
