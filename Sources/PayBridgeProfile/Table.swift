import Foundation

/// One line of the budget.
struct Row {
    var stage: String
    var allocations: String
    var cpu: String
    var notes: String

    init(_ stage: String, _ figures: Figures, _ notes: String) {
        self.stage = stage
        allocations = Self.count(figures.allocations)
        cpu = Self.micros(figures.cpuMicros)
        var scope = "thread"
        if figures.scope == .process {
            let range = figures.allocationRange.map { " (\(Self.count($0.lowerBound))–\(Self.count($0.upperBound)))" }
            scope = "process-wide" + (range ?? "")
        }
        self.notes = "\(scope), \(Self.bytes(figures.bytes)); \(notes)"
    }

    init(stage: String, allocations: String, cpu: String, notes: String) {
        self.stage = stage
        self.allocations = allocations
        self.cpu = cpu
        self.notes = notes
    }

    /// Whole numbers as such; a count that is not whole per command (a process-wide median, or an amortized growth
    /// of a table) with two decimals, three below one.
    static func count(_ value: Double) -> String {
        if value == value.rounded() { return String(format: "%.0f", value) }
        return String(format: abs(value) < 1 ? "%.3f" : "%.2f", value)
    }

    static func micros(_ value: Double) -> String {
        abs(value) < 10 ? String(format: "%.2f", value) : String(format: "%.1f", value)
    }

    static func bytes(_ value: Double) -> String {
        value < 10_000 ? String(format: "%.0f B", value) : String(format: "%.1f KB", value / 1000)
    }
}

/// A Markdown table with aligned columns.
func render(_ rows: [Row]) -> String {
    let header = Row(stage: "stage", allocations: "allocations/command", cpu: "CPU µs/command (median)",
                     notes: "notes")
    let all = [header] + rows
    func width(_ column: (Row) -> String) -> Int { all.map { column($0).count }.max() ?? 0 }
    let widths = [width(\.stage), width(\.allocations), width(\.cpu)]
    func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
        let fill = String(repeating: " ", count: max(0, width - text.count))
        return right ? fill + text : text + fill
    }
    func line(_ row: Row) -> String {
        "| " + pad(row.stage, widths[0]) + " | " + pad(row.allocations, widths[1], right: true) + " | "
            + pad(row.cpu, widths[2], right: true) + " | " + row.notes + " |"
    }
    let rule = "|" + widths.map { String(repeating: "-", count: $0 + 2) }.joined(separator: "|") + "|---|"
    return ([line(header), rule] + rows.map(line)).joined(separator: "\n")
}

/// The figures of `make bench-worker`'s drain (`PROFILE_DRAIN`: its output, `key=value` lines), as rows.
func drainRows(_ output: String) -> [Row] {
    var values: [String: String] = [:]
    for line in output.split(separator: "\n")
    where line.hasPrefix("provider_latency_ms=0") || line.hasPrefix("http_transport_only") {
        for field in line.split(separator: " ") {
            let parts = field.split(separator: "=", maxSplits: 1)
            if parts.count == 2 { values[String(parts[0])] = String(parts[1]) }
        }
    }
    guard let voluntary = values["drain_worker_voluntary_switches_per_command"],
        let involuntary = values["drain_worker_involuntary_switches_per_command"]
    else { return [] }
    let commands = values["commands"] ?? "?", rate = values["drain_commands_per_s"] ?? "?"
    var rows = [
        Row(stage: "drain: whole worker (make bench-worker)", allocations: "—",
            cpu: values["drain_worker_cpu_us_per_command"] ?? "?",
            notes: "\(commands) commands drained at \(rate)/s, prefetch 200, 0 ms; every thread of the worker"),
        Row(stage: "drain: context switches per command", allocations: "—", cpu: "—",
            notes: "\(voluntary) voluntary, \(involuntary) involuntary (all the worker's threads)"),
    ]
    if let http = values["http_cpu_us_per_request"] {
        rows.append(Row(stage: "HTTP transport alone (paybridge-bench --http-nio)", allocations: "—", cpu: http,
                        notes: "NIOHTTPTransport.post, 200 in flight, this bench's sandbox"))
    }
    return rows
}
