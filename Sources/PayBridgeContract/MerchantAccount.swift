/// The name of one of a provider's merchant accounts: `default` (the single-account settings,
/// `AMANPAY_MERCHANT_ID` …) or a name listed in `AMANPAY_ACCOUNTS` / `FIRSTPAY_ACCOUNTS` (`bd`, `pk`, …).
///
/// 1 to ``maximumLength`` bytes of lowercase ASCII letters, digits, `_` and `-`: the same rule as the commands'
/// `data.account` pattern, the callback path `/callbacks/<provider>/<account>` and the settings' names
/// (``environmentInfix``). Checked before anything else reads it, so an account name can never be long or odd.
public struct MerchantAccount: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Longest account name, in bytes.
    public static let maximumLength = 32
    /// The account of the single-account settings, and of a command without `data.account`.
    public static let `default` = MerchantAccount(unchecked: "default")
    /// The JSON Schema pattern of `data.account` (commands and events).
    public static let pattern = "^[a-z0-9_-]{1,32}$"

    public let name: String

    /// `nil` unless `text` is 1 to ``maximumLength`` bytes of `a-z`, `0-9`, `_`, `-`.
    public init?(_ text: some StringProtocol) {
        let bytes = text.utf8
        guard (1...Self.maximumLength).contains(bytes.count), bytes.allSatisfy(Self.isAllowed) else { return nil }
        name = String(text)
    }

    private init(unchecked name: String) { self.name = name }

    public var description: String { name }

    /// The account's part of a setting's name: upper case, `-` as `_` (`bd-x` → `BD_X`, as in
    /// `AMANPAY_BD_X_MERCHANT_ID`).
    public var environmentInfix: String {
        String(decoding: name.utf8.map { byte -> UInt8 in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"): byte - 32
            case UInt8(ascii: "-"): UInt8(ascii: "_")
            default: byte
            }
        }, as: UTF8.self)
    }

    public static func < (lhs: MerchantAccount, rhs: MerchantAccount) -> Bool { lhs.name < rhs.name }

    private static func isAllowed(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
            || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
    }
}
