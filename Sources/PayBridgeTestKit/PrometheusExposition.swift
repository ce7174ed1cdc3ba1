/// A scraped Prometheus text exposition: the `# TYPE` of each metric family and every sample, with its labels.
package struct PrometheusExposition: Sendable {
    package struct Sample: Sendable, Equatable {
        package let name: String
        package let labels: [String: String]
        package let value: Double
    }

    /// Metric family → `counter`, `gauge`, `histogram`, ….
    package private(set) var types: [String: String] = [:]
    package private(set) var samples: [Sample] = []

    package init(_ text: String) {
        for line in text.split(separator: "\n") {
            if line.hasPrefix("# TYPE ") {
                let parts = line.split(separator: " ")
                if parts.count == 4 { types[String(parts[2])] = String(parts[3]) }
            } else if !line.hasPrefix("#"), let sample = Self.sample(line) {
                samples.append(sample)
            }
        }
    }

    /// Whether `name`, as a PromQL selector names it, has samples: a counter or gauge by its own name, a histogram's
    /// series by `<family>_bucket`, `<family>_sum` or `<family>_count` (the family itself has no samples of that name).
    package func exports(_ name: String) -> Bool {
        let family: String
        if let type = types[name], type != "histogram", type != "summary" {
            family = name
        } else if let suffix = ["_bucket", "_sum", "_count"].first(where: { name.hasSuffix($0) }),
                  let type = types[String(name.dropLast(suffix.count))], type == "histogram" || type == "summary"
        {
            family = String(name.dropLast(suffix.count))
        } else {
            return false
        }
        return types[family] != nil && samples.contains { $0.name == name }
    }

    /// The sum of the samples of `name` whose labels include `labels` (more labels, such as an account, are summed
    /// over); `nil` when there is none.
    package func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        let matching = samples.filter { sample in
            sample.name == name && labels.allSatisfy { sample.labels[$0.key] == $0.value }
        }
        return matching.isEmpty ? nil : matching.reduce(0) { $0 + $1.value }
    }

    /// `name{label="value",…} 1.5` or `name 1.5`.
    private static func sample(_ line: Substring) -> Sample? {
        var rest = line[...]
        let name = rest.prefix { $0 != "{" && $0 != " " }
        rest = rest.dropFirst(name.count)
        var labels: [String: String] = [:]
        if rest.first == "{" {
            rest = rest.dropFirst()
            while let key = rest.split(separator: "=", maxSplits: 1).first, rest.first != "}" {
                rest = rest.dropFirst(key.count + 1)
                guard rest.first == "\"" else { return nil }
                rest = rest.dropFirst()
                var value = ""
                while let character = rest.first, character != "\"" {
                    rest = rest.dropFirst()
                    if character == "\\", let escaped = rest.first {
                        rest = rest.dropFirst()
                        value.append(escaped == "n" ? "\n" : escaped)
                    } else {
                        value.append(character)
                    }
                }
                rest = rest.dropFirst()  // the closing quote
                labels[String(key)] = value
                if rest.first == "," { rest = rest.dropFirst() }
            }
            guard rest.first == "}" else { return nil }
            rest = rest.dropFirst()
        }
        let text = rest.trimmingPrefix(" ")
        let number = text.prefix { $0 != " " }
        let value: Double? = switch number {
        case "+Inf": .infinity
        case "-Inf": -.infinity
        default: Double(number)
        }
        guard !name.isEmpty, let value else { return nil }
        return Sample(name: String(name), labels: labels, value: value)
    }
}
