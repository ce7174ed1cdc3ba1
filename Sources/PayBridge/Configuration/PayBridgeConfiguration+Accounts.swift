import Amanpay
import FirstPay
import Foundation
import PayBridgeContract
import ProviderCore

/// Merchant accounts: `AMANPAY_ACCOUNTS` / `FIRSTPAY_ACCOUNTS` list named accounts, each
/// configured by the single-account variables with the account's name after the provider
/// (``MerchantAccount/environmentInfix``): `AMANPAY_BD_MERCHANT_ID`, `AMANPAY_BD_SECRET_KEY[_FILE]`,
/// `FIRSTPAY_PK_PUBLIC_KEY_FILE`, … The unprefixed variables keep configuring the account `default`.
///
/// - A list has 1 to ``maximumAccounts`` comma-separated names (a-z, 0-9, `_`, `-`; at most 32 bytes), none twice,
///   not `default` (that is the unprefixed variables' account), not `unknown` (the metrics' label of every account a
///   delivery names that is not configured: ``PayBridgeMetrics/unknownAccount``), and no two that name the same variables (`a-b`,
///   `a_b`).
/// - A named account's merchant id and secrets are its own: required, never taken from the `default` account. Its
///   base URL, Amanpay's signature field list and FirstPay's paths fall back to the unprefixed ones.
/// - With a list set, `default` exists only when its merchant id or key is set (`AMANPAY_MERCHANT_ID`,
///   `AMANPAY_SECRET_KEY[_FILE]`; `FIRSTPAY_PUBLIC_KEY_FILE`, `FIRSTPAY_MERCHANT_PRIVATE_KEY_FILE`).
extension PayBridgeConfiguration {
    /// Most accounts per provider.
    static let maximumAccounts = 64

    /// The names in `<PROVIDER>_ACCOUNTS`; empty when it is not set.
    static func accountNames(_ env: EnvironmentSettings, provider: String) throws(ConfigurationError)
        -> [MerchantAccount]
    {
        let setting = "\(provider)_ACCOUNTS"
        guard let text = env.value(setting) else { return [] }
        guard text.utf8.count <= maximumAccounts * (MerchantAccount.maximumLength + 2) else {
            throw ConfigurationError(setting: setting, problem: "longer than \(maximumAccounts) account names")
        }
        let parts = text.split(separator: ",", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.count <= maximumAccounts else {
            throw ConfigurationError(setting: setting, problem: "at most \(maximumAccounts) accounts")
        }
        var accounts: [MerchantAccount] = []
        var infixes: Set<String> = []
        for part in parts {
            guard let account = MerchantAccount(part) else {
                throw ConfigurationError(
                    setting: setting,
                    problem: "\"\(part.prefix(40))\" is not an account name (1 to \(MerchantAccount.maximumLength) "
                        + "characters: lowercase letters, digits, _ and -)")
            }
            guard account != .default else {
                throw ConfigurationError(
                    setting: setting,
                    problem: "do not list default: the unprefixed \(provider)_* variables configure it")
            }
            guard account != PayBridgeMetrics.unknownAccount else {
                throw ConfigurationError(
                    setting: setting,
                    problem: "unknown is reserved: it is the metrics' account label of deliveries naming an account "
                        + "that is not configured")
            }
            guard infixes.insert(account.environmentInfix).inserted else {
                throw ConfigurationError(
                    setting: setting, problem: "\(account.name) is listed twice (or as another name with _ for -)")
            }
            accounts.append(account)
        }
        return accounts
    }

    /// The prefix of an account's variables: `AMANPAY_` for `default`, `AMANPAY_BD_` for `bd`.
    static func prefix(_ provider: String, _ account: MerchantAccount) -> String {
        account == .default ? "\(provider)_" : "\(provider)_\(account.environmentInfix)_"
    }

    /// Every Amanpay account: `default` from the unprefixed variables, the named ones of `AMANPAY_ACCOUNTS`.
    static func amanpayAccounts(_ env: EnvironmentSettings) throws(ConfigurationError)
        -> [MerchantAccount: AmanpayConfiguration]
    {
        let named = try accountNames(env, provider: "AMANPAY")
        let base = try env.url("AMANPAY_BASE_URL")
        let fields = try signatureFields(env.value("AMANPAY_RESPONSE_SIGNATURE_FIELDS"),
                                         setting: "AMANPAY_RESPONSE_SIGNATURE_FIELDS")
        var accounts: [MerchantAccount: AmanpayConfiguration] = [:]
        let defaultConfigured = named.isEmpty
            ? base != nil
            : env.value("AMANPAY_MERCHANT_ID") != nil || env.value("AMANPAY_SECRET_KEY") != nil
                || env.value("AMANPAY_SECRET_KEY_FILE") != nil
        for account in (defaultConfigured ? [MerchantAccount.default] : []) + named {
            let prefix = prefix("AMANPAY", account)
            guard let url = try env.url(prefix + "BASE_URL") ?? base else {
                throw ConfigurationError(setting: prefix + "BASE_URL",
                                         problem: "required for the account \(account.name) (or AMANPAY_BASE_URL)")
            }
            let required = account == .default ? "required when AMANPAY_BASE_URL is set"
                : "required for the account \(account.name) listed in AMANPAY_ACCOUNTS"
            guard let merchantId = try env.integer(prefix + "MERCHANT_ID", in: 1...Int.max) else {
                throw ConfigurationError(setting: prefix + "MERCHANT_ID", problem: required)
            }
            guard let secret = try env.secret(prefix + "SECRET_KEY") else {
                throw ConfigurationError(setting: prefix + "SECRET_KEY",
                                         problem: "\(required) (or \(prefix)SECRET_KEY_FILE)")
            }
            var configuration = AmanpayConfiguration(baseURL: url, merchantId: merchantId, secretKey: Secret(secret))
            var own: [String]?
            if account != .default {
                own = try signatureFields(env.value(prefix + "RESPONSE_SIGNATURE_FIELDS"),
                                          setting: prefix + "RESPONSE_SIGNATURE_FIELDS")
            }
            if let fields = own ?? fields { configuration.responseSignatureFields = fields }  // A2: a setting
            accounts[account] = configuration
        }
        return accounts
    }

    /// Every FirstPay account: `default` from the unprefixed variables, the named ones of `FIRSTPAY_ACCOUNTS`.
    static func firstpayAccounts(_ env: EnvironmentSettings) throws(ConfigurationError)
        -> [MerchantAccount: FirstPayConfiguration]
    {
        let named = try accountNames(env, provider: "FIRSTPAY")
        let base = try env.url("FIRSTPAY_BASE_URL")
        var accounts: [MerchantAccount: FirstPayConfiguration] = [:]
        let defaultConfigured = named.isEmpty
            ? base != nil
            : env.value("FIRSTPAY_PUBLIC_KEY_FILE") != nil || env.value("FIRSTPAY_MERCHANT_PRIVATE_KEY_FILE") != nil
        for account in (defaultConfigured ? [MerchantAccount.default] : []) + named {
            let prefix = prefix("FIRSTPAY", account)
            guard let url = try env.url(prefix + "BASE_URL") ?? base else {
                throw ConfigurationError(setting: prefix + "BASE_URL",
                                         problem: "required for the account \(account.name) (or FIRSTPAY_BASE_URL)")
            }
            let required = account == .default ? "required when FIRSTPAY_BASE_URL is set"
                : "required for the account \(account.name) listed in FIRSTPAY_ACCOUNTS"
            guard let publicKey = try env.file(prefix + "PUBLIC_KEY_FILE") else {
                throw ConfigurationError(setting: prefix + "PUBLIC_KEY_FILE", problem: required)
            }
            guard let privateKey = try env.file(prefix + "MERCHANT_PRIVATE_KEY_FILE") else {
                throw ConfigurationError(setting: prefix + "MERCHANT_PRIVATE_KEY_FILE", problem: required)
            }
            var configuration = FirstPayConfiguration(baseURL: url, publicKeyPEM: publicKey,
                                                      merchantPrivateKeyPEM: Secret(privateKey))
            // F3: the pinned (undocumented) paths are settings; an account's own, else the provider's.
            func path(_ provider: String) throws(ConfigurationError) -> String? {
                let own = prefix + provider.dropFirst("FIRSTPAY_".count)
                if account != .default, let path = try Self.path(env.value(own), own) { return path }
                return try Self.path(env.value(provider), provider)
            }
            if let status = try path("FIRSTPAY_STATUS_PATH") { configuration.paths.status = status }
            if let sms = try path("FIRSTPAY_SMS_PATH") { configuration.paths.sms = sms }
            if let methods = try path("FIRSTPAY_PAYMENT_METHODS_PATH") { configuration.paths.paymentMethods = methods }
            accounts[account] = configuration
        }
        return accounts
    }
}
