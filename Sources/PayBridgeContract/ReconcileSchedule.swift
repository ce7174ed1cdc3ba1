/// When PayBridge looks again at a payment left open ("reconciliation"): the delays of its status checks,
/// each counted from the previous check (the first from the outcome that left it open). `PAYBRIDGE_RECONCILE_SCHEDULE`.
///
/// Text form: comma-separated durations, each a whole number and a unit `ms`, `s`, `m`, `h` or `d` (a bare number
/// is seconds), e.g. the default `1m,5m,15m,1h,6h,24h`; `off` (or `none`) disables reconciliation. At most
/// ``maximumSteps`` checks, each delay in 1 ms … ``maximumDelayMilliseconds`` (RabbitMQ's largest message TTL is
/// 2³² − 1 ms, about 49 days).
///
/// Each distinct delay is one broker-side delay queue per provider (``Topology/reconcileQueue(_:delay:)``), so the
/// checks wait on the broker, not in a worker: any worker can run them and none keeps state.
public struct ReconcileSchedule: Sendable, Hashable, CustomStringConvertible {
    /// The delay before each check, in milliseconds, first check first. Empty: reconciliation is off.
    public let delaysMilliseconds: [Int]

    public static let maximumSteps = 32
    /// 30 days.
    public static let maximumDelayMilliseconds = 30 * 86_400_000
    /// `1m,5m,15m,1h,6h,24h`: about 31 hours from the first outcome to `unresolved`.
    public static let `default` = ReconcileSchedule(uncheckedMilliseconds: [
        60_000, 300_000, 900_000, 3_600_000, 21_600_000, 86_400_000,
    ])
    /// No checks.
    public static let off = ReconcileSchedule(uncheckedMilliseconds: [])

    init(uncheckedMilliseconds: [Int]) { delaysMilliseconds = uncheckedMilliseconds }

    /// A schedule of delays (each rounded down to whole milliseconds).
    /// - Throws: ``ReconcileScheduleError`` when there are more than ``maximumSteps`` or a delay is out of range.
    public init(delays: [Duration]) throws(ReconcileScheduleError) {
        let milliseconds = delays.map { duration in
            let (seconds, attoseconds) = duration.components
            return seconds > Int64(Self.maximumDelayMilliseconds / 1000) ? Int.max
                : Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)
        }
        try self.init(milliseconds: milliseconds)
    }

    private init(milliseconds: [Int]) throws(ReconcileScheduleError) {
        guard milliseconds.count <= Self.maximumSteps else {
            throw ReconcileScheduleError("at most \(Self.maximumSteps) checks (got \(milliseconds.count))")
        }
        for delay in milliseconds where !(1...Self.maximumDelayMilliseconds).contains(delay) {
            throw ReconcileScheduleError("each delay must be between 1ms and 30d")
        }
        delaysMilliseconds = milliseconds
    }

    /// Parses the text form (see the type's documentation). Bounded: at most 1024 characters are looked at.
    /// - Throws: ``ReconcileScheduleError`` naming what is wrong.
    public init(parsing text: String) throws(ReconcileScheduleError) {
        let trimmed = text.trimmingASCIISpaces
        guard trimmed.utf8.count <= 1024 else { throw ReconcileScheduleError("longer than 1024 characters") }
        if ["off", "none"].contains(trimmed.lowercased()) {
            self = .off
            return
        }
        var milliseconds: [Int] = []
        for part in trimmed.split(separator: ",", omittingEmptySubsequences: false) {
            let item = String(part).trimmingASCIISpaces
            guard let delay = Self.milliseconds(item) else {
                throw ReconcileScheduleError("\"\(item.prefix(32))\" is not a duration such as 30s, 5m, 1h or 1d")
            }
            milliseconds.append(delay)
        }
        try self.init(milliseconds: milliseconds)
    }

    /// `500ms` → 500, `30s`/`30` → 30 000, `5m`, `1h`, `1d`; `nil` when not a duration or past the maximum.
    static func milliseconds(_ text: String) -> Int? {
        let digits = text.prefix { ("0"..."9").contains($0) }
        let unit = text.dropFirst(digits.count).lowercased()
        guard (1...12).contains(digits.count), let number = Int(digits) else { return nil }
        let factor: Int
        switch unit {
        case "ms": factor = 1
        case "", "s": factor = 1000
        case "m": factor = 60_000
        case "h": factor = 3_600_000
        case "d": factor = 86_400_000
        default: return nil
        }
        let (product, overflow) = number.multipliedReportingOverflow(by: factor)
        return overflow || product > maximumDelayMilliseconds ? nil : product
    }

    /// Whether no check is ever scheduled.
    public var isOff: Bool { delaysMilliseconds.isEmpty }
    /// How many checks a chain has at most.
    public var steps: Int { delaysMilliseconds.count }

    /// The delay before check `step` (1-based); steps past the end use the last delay. `nil` when off.
    public func delayMilliseconds(beforeStep step: Int) -> Int? {
        guard let last = delaysMilliseconds.last else { return nil }
        return step >= 1 && step <= delaysMilliseconds.count ? delaysMilliseconds[step - 1] : last
    }

    /// The distinct delays, in first-use order: one delay queue per provider each.
    public var distinctDelaysMilliseconds: [Int] {
        var seen = Set<Int>()
        return delaysMilliseconds.filter { seen.insert($0).inserted }
    }

    /// A delay as the text a queue name carries: the largest unit of `d`, `h`, `m`, `s`, `ms` that divides it
    /// (`60000` → `1m`, `86400000` → `1d`, `1500` → `1500ms`).
    public static func name(milliseconds: Int) -> String {
        for (factor, unit) in [(86_400_000, "d"), (3_600_000, "h"), (60_000, "m"), (1000, "s")]
        where milliseconds % factor == 0 {
            return "\(milliseconds / factor)\(unit)"
        }
        return "\(milliseconds)ms"
    }

    /// The text form: `off`, or the delays' names joined with commas.
    public var description: String {
        isOff ? "off" : delaysMilliseconds.map(Self.name(milliseconds:)).joined(separator: ",")
    }
}

/// `PAYBRIDGE_RECONCILE_SCHEDULE` is not a schedule.
public struct ReconcileScheduleError: Error, Sendable, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}

extension String {
    fileprivate var trimmingASCIISpaces: String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
