import PayBridgeContract
public import StrictJSON

/// The command the benchmarks publish and profile (`paybridge-bench`, `paybridge-profile`): one `amanpay.payout`,
/// the same body byte for byte in both, so their figures are about the same work.
public enum BenchCommand {
    /// The CloudEvent for command (and payment) id `id`.
    public static func payout(_ id: String) -> JSONValue {
        .object([
            "specversion": .string("1.0"), "id": .string(id), "type": .string(PaymentCommandKind.amanpayPayout.type),
            "source": .string("/bench"), "time": .string("2026-11-21T00:00:00Z"),
            "data": .object([
                "paymentId": .string(id), "amount": .string("250.50"), "currency": .string("BDT"),
                "customerEmail": .string("bench@example.com"), "customerName": .string("Bench Payee"),
                "paymentMethod": .string("bkash"), "recipientType": .string("bank_account"),
            ]),
        ])
    }

    /// ``payout(_:)`` serialized: the message body.
    public static func payoutBody(_ id: String) -> [UInt8] { payout(id).serialized() }
}
