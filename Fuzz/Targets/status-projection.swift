// Fuzz target: PaymentStatusProjection, the consumers' status rule (docs/contract.md), and RFC3339Instant, over
// what a consumer reads from payments.outcomes or `paybridge events replay --json`.
// Input: newline-separated event bodies (NDJSON), each parsed with CloudEvent.parse and applied in order.
// Properties: parsing and applying return; applying the same events again changes nothing (duplicates are
// harmless); for events that name their payment, each payment ends on the status the rule gives whatever the order:
// the newest final by time when there is a final one, else the newest.
import PayBridgeContract
import PaymentVocabulary

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzStatusProjection(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = fuzzBytes(data, size)
    let events = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true)
        .compactMap { try? CloudEvent.parse($0) }
    for event in events { _ = event.time.flatMap(RFC3339Instant.init) }
    var projection = PaymentStatusProjection()
    for event in events { projection.apply(event) }
    let once = projection.payments
    for event in events { projection.apply(event) }
    fuzzCheck(projection.payments == once, "applying the same events twice moved a payment")

    // The rule, order-free, for the events that name their payment.
    var named = PaymentStatusProjection()
    var candidates: [PaymentStatusProjection.Key: [(final: Bool, time: RFC3339Instant)]] = [:]
    for event in events {
        guard let data = event.data, let provider = data["provider"]?.stringValue,
            let paymentId = data["paymentId"]?.stringValue else { continue }
        named.apply(event)
        guard let status = data["status"]?.stringValue.flatMap(PaymentStatus.init(rawValue:)), status != .unknown,
            let time = event.time.flatMap(RFC3339Instant.init)
        else { continue }
        let key = PaymentStatusProjection.Key(provider: provider, account: data["account"]?.stringValue ?? "default",
                                              paymentId: paymentId)
        candidates[key, default: []].append((data["final"]?.boolValue ?? status.isFinal, time))
    }
    for (key, list) in candidates {
        let finals = list.filter(\.final)
        let expected = (finals.isEmpty ? list : finals).map(\.time).max()
        fuzzCheck(named[key]?.time == expected && named[key]?.final == !finals.isEmpty,
                  "\(key): not the rule's newest \(finals.isEmpty ? "" : "final ")event")
    }
    return 0
}
