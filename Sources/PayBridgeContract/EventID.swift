import Crypto

/// Deterministic outcome-event ids: the same fact published twice carries the same id, so consumers de-duplicate.
///
/// Rule (version 1; also in docs/contract.md, "Event ids", reproducible in any language):
/// 1. Components, in order: event `type`, `commandId`, `provider`, `operation`, `paymentId`, `providerPaymentId`,
///    `status`, `providerStatus`, `error.code`, `error.class`, `fact` (an optional discriminator the publisher
///    chooses; `nil` by default).
/// 2. Encode each component as `~` when absent/null, else `<n>:<value>` where `n` is the value's length in UTF-8
///    bytes (decimal).
/// 3. Input = `paybridge.event-id.v1|` followed by the encoded components joined with `|`, as UTF-8.
/// 4. Take the first 16 bytes of SHA-256(input); set the version nibble to 8 (`b[6] = b[6] & 0x0F | 0x80`) and the
///    RFC 9562 variant (`b[8] = b[8] & 0x3F | 0x80`); write as lower-case UUID text `8-4-4-4-12`.
///
/// Time, attempt counts, amounts and the raw body are deliberately not part of the id: a redelivered command that
/// leads to the same provider state yields the same id.
public enum EventID {
    /// Computes an id from the rule's components.
    /// - Parameters:
    ///   - type: event type, e.g. `paybridge.payment.response.v1`.
    ///   - commandId: the command id (`nil` for callbacks and unreadable commands).
    ///   - provider: provider name.
    ///   - operation: operation or `nil`.
    ///   - paymentId: merchant's payment id or `nil`.
    ///   - providerPaymentId: provider's payment id or `nil`.
    ///   - status: unified status raw value.
    ///   - providerStatus: provider's status text or `nil`.
    ///   - errorCode: `error.code` or `nil`.
    ///   - errorClass: `error.class` raw value or `nil`.
    ///   - fact: extra discriminator, `nil` by default.
    /// - Returns: UUID text, e.g. `70471d84-a4bc-84a3-acda-608460393148`.
    public static func make(
        type: String, commandId: String?, provider: String, operation: String?, paymentId: String?,
        providerPaymentId: String?, status: String, providerStatus: String?, errorCode: String?,
        errorClass: String?, fact: String? = nil
    ) -> String {
        // The input is hashed as it is written (no joined string, no byte arrays): this runs for every event.
        var hasher = SHA256()
        feed("paybridge.event-id.v1|", to: &hasher)
        for (position, component) in [
            type, commandId, provider, operation, paymentId, providerPaymentId, status, providerStatus, errorCode,
            errorClass, fact,
        ].enumerated() {
            if position > 0 { feed("|", to: &hasher) }
            if let component {
                feed(String(component.utf8.count), to: &hasher)
                feed(":", to: &hasher)
                feed(component, to: &hasher)
            } else {
                feed("~", to: &hasher)
            }
        }
        return hasher.finalize().withUnsafeBytes { digest in
            String(unsafeUninitializedCapacity: 36) { text in
                var written = 0
                for k in 0..<16 {
                    if k == 4 || k == 6 || k == 8 || k == 10 {
                        text[written] = UInt8(ascii: "-")
                        written += 1
                    }
                    var byte = digest[k]
                    if k == 6 { byte = (byte & 0x0F) | 0x80 }
                    if k == 8 { byte = (byte & 0x3F) | 0x80 }
                    text[written] = hexDigits[Int(byte >> 4)]
                    text[written + 1] = hexDigits[Int(byte & 0x0F)]
                    written += 2
                }
                return written
            }
        }
    }

    private static func feed(_ text: String, to hasher: inout SHA256) {
        var text = text
        text.withUTF8 { hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }
    }

    /// The id of an outcome's event (components taken from `outcome`).
    /// - Parameters:
    ///   - type: event type.
    ///   - outcome: the event data.
    ///   - fact: extra discriminator.
    public static func make(type: String, outcome: PaymentOutcome, fact: String? = nil) -> String {
        make(
            type: type, commandId: outcome.commandId, provider: outcome.provider.rawValue,
            operation: outcome.operation, paymentId: outcome.paymentId, providerPaymentId: outcome.providerPaymentId,
            status: outcome.status.rawValue, providerStatus: outcome.providerStatus, errorCode: outcome.error?.code,
            errorClass: outcome.error?.errorClass.rawValue, fact: fact)
    }

    /// Lower-case hex SHA-256 of bytes (used as the `fact` of events about unreadable commands).
    public static func sha256Hex(_ bytes: some Collection<UInt8>) -> String {
        var text: [UInt8] = []
        text.reserveCapacity(64)
        for byte in SHA256.hash(data: Array(bytes)) {
            text.append(hexDigits[Int(byte >> 4)])
            text.append(hexDigits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)
}
