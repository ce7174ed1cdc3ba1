import AMQPValues
import PayBridgeContract

/// The received headers PayBridge forwards when it publishes a command again (a retry, a dead letter, a put-back),
/// bounded so that nothing a producer put in its headers can make the copy too large for a frame.
///
/// A header is kept when its key is at most ``Topology/Headers/maximumForwardedKeyBytes`` UTF-8 bytes and, taken in
/// order (PayBridge's own and the trace context first, then the producer's as received), the kept ones together
/// stay within ``Topology/Headers/maximumForwardedHeaderBytes`` encoded. The others are dropped and named in
/// ``Topology/Headers/droppedHeaders``. Sizes are UTF-8 bytes as AMQP encodes them, never characters: one character
/// can be a base followed by thousands of combining marks.
package struct ForwardedHeaders: Equatable, Sendable {
    /// The headers to forward, in their received order.
    package var kept: AMQPTable
    /// Keys of the headers dropped, in received order.
    package var droppedKeys: [String]
    /// What the dropped headers take encoded, in bytes.
    package var droppedBytes: Int
}

extension ForwardedHeaders {
    /// `received` bounded as described above; what is kept stays in the received order.
    package init(_ received: AMQPTable) {
        let entries = received.entries
        let ours = entries.indices.filter { Self.isPayBridges(entries[$0].key) }
        let producers = entries.indices.filter { !Self.isPayBridges(entries[$0].key) }
        var keep = [Bool](repeating: false, count: entries.count)
        var total = 0
        for index in ours + producers {
            let bytes = AMQPTable.encodedByteCount(key: entries[index].key, value: entries[index].value)
            if entries[index].key.utf8.count <= Topology.Headers.maximumForwardedKeyBytes,
               total + bytes <= Topology.Headers.maximumForwardedHeaderBytes
            {
                keep[index] = true
                total += bytes
            }
        }
        kept = AMQPTable(entries.indices.filter { keep[$0] }.map { (entries[$0].key, entries[$0].value) })
        let dropped = entries.indices.filter { !keep[$0] }
        droppedKeys = dropped.map { entries[$0].key }
        droppedBytes = dropped.reduce(0) { $0 + AMQPTable.encodedByteCount(key: entries[$1].key, value: entries[$1].value) }
    }

    /// Headers PayBridge writes itself (and reads back): forwarded before any of the producer's.
    package static func isPayBridges(_ key: String) -> Bool {
        key.hasPrefix("x-paybridge-") || key == Topology.Headers.traceparent || key == Topology.Headers.tracestate
    }

    /// The value of ``Topology/Headers/droppedHeaders``: `3 headers, 131002 bytes: x-a, x-b, x-c`, clipped to
    /// ``Topology/Headers/maximumDetailLength`` UTF-8 bytes; `nil` when nothing was dropped.
    package var droppedRecord: String? {
        guard !droppedKeys.isEmpty else { return nil }
        return Self.record(count: droppedKeys.count, bytes: droppedBytes, keys: droppedKeys)
    }

    /// The text of ``Topology/Headers/droppedHeaders`` for `count` headers of `bytes` encoded bytes named `keys`.
    package static func record(count: Int, bytes: Int, keys: [String], why: String? = nil) -> String {
        let head = "\(count) header\(count == 1 ? "" : "s"), \(bytes) bytes"
            + (why.map { " (\($0))" } ?? "")
        // Joining is bounded too: never more keys than could show within the limit.
        var listed = ""
        for key in keys {
            guard listed.utf8.count < Topology.Headers.maximumDetailLength else { break }
            listed += (listed.isEmpty ? "" : ", ") + Topology.Headers.clipped(
                key, toUTF8Bytes: Topology.Headers.maximumDetailLength)
        }
        return Topology.Headers.clippedDetail(keys.isEmpty ? head : head + ": " + listed)
    }
}
