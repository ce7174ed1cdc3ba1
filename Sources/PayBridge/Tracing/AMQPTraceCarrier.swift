import AMQP
import Tracing

/// Reads W3C trace headers from a message's AMQP headers (string values only; the tracer validates them).
struct AMQPHeadersExtractor: Extractor {
    func extract(key: String, from carrier: AMQPTable) -> String? {
        carrier[key]?.stringValue
    }
}
