// Pass-through loop on PayBridge's Swift AMQP client, compared by `make bench-amqp` with bench/c-passthrough.c.
// consume bench.in (prefetch P) -> publish to exchange bench.out with confirm -> ack the input after the confirm.
// Usage: amqp-bench <messages> <prefetch> [amqp-url]
// Prints one line: "swift messages=N seconds=S rate=R/s peak_rss_kb=K rss_kb_at=[10%:…,50%:…,100%:…]".
import AMQP
import Foundation
import Logging

func residentKilobytes(_ field: String) -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return -1 }
    for line in status.split(separator: "\n") where line.hasPrefix(field + ":") {
        return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? -1
    }
    return -1
}

let arguments = CommandLine.arguments
let total = arguments.count > 1 ? Int(arguments[1]) ?? 100_000 : 100_000
let prefetch = arguments.count > 2 ? UInt16(arguments[2]) ?? 500 : 500
let url = arguments.count > 3 ? arguments[3] : "amqp://guest:guest@127.0.0.1:5672/%2F"

var logger = Logger(label: "paybridge.amqp-bench")
logger.logLevel = .warning
var configuration = try AMQPConfiguration(url: url)
configuration.connectionName = "amqp-bench"
let connection = try await AMQPConnection.connect(configuration, logger: logger)

try await connection.declare(AMQPQueue("bench.in", durable: false))
try await connection.purgeQueue("bench.in")
try await connection.declare(AMQPExchange("bench.out", type: .fanout, durable: false))
try await connection.declare(AMQPQueue("bench.sink", durable: false,
                                       arguments: ["x-max-length": .int64(1000), "x-overflow": .string("drop-head")]))
try await connection.bind(queue: "bench.sink", exchange: "bench.out", routingKey: "")

// Prefill (not timed), 5,000 confirmed publishes in flight at a time.
let properties = AMQPProperties(contentType: "application/json", persistent: false)
var next = 0
while next < total {
    let upper = min(next + 5_000, total)
    try await withThrowingTaskGroup(of: Void.self) { group in
        for index in next..<upper {
            group.addTask {
                try await connection.publish("{\"id\":\(index + 1),\"amount\":\"250.50\",\"currency\":\"BDT\"}",
                                             exchange: "", routingKey: "bench.in", properties: properties)
            }
        }
        try await group.waitForAll()
    }
    next = upper
}

let consumer = try await connection.consume(queue: "bench.in", prefetch: prefetch)
var samples: [String] = []
let start = ContinuousClock.now
// Each burst of deliveries (what one pass of the I/O thread read) is published as one batch with confirms;
// each input is acked after its own output was confirmed. Bursts are pipelined: up to the prefetch window.
try await withThrowingDiscardingTaskGroup { group in
    var started = 0
    for try await burst in consumer.batches {
        group.addTask {
            let results = await connection.publish(batch: burst.map {
                AMQPMessage(body: $0.body, exchange: "bench.out", routingKey: "out", properties: $0.properties)
            })
            for (delivery, result) in zip(burst, results) {
                switch result {
                case .success: try await delivery.ack()
                case .failure(let error): throw error
                }
            }
        }
        let before = started
        started += burst.count
        for mark in [total / 10, total / 2] where before < mark && started >= mark {
            samples.append("\(mark * 100 / total)%:\(residentKilobytes("VmRSS"))")
        }
        if started >= total { break }
    }
}
let elapsed = ContinuousClock.now - start
samples.append("100%:\(residentKilobytes("VmRSS"))")
let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
print(String(format: "swift messages=%d seconds=%.3f rate=%.0f peak_rss_kb=%d rss_kb_at=[%@]", total, seconds,
             Double(total) / seconds, residentKilobytes("VmHWM"), samples.joined(separator: ",")))
await consumer.cancel()
await connection.close()
