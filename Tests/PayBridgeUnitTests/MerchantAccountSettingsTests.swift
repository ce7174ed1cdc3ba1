import Foundation
@testable import PayBridge
import PayBridgeContract
import Testing

/// `AMANPAY_ACCOUNTS` / `FIRSTPAY_ACCOUNTS` and each account's variables, read without I/O beyond
/// temporary key files.
@Suite struct MerchantAccountSettingsTests {
    static let base = ["AMANPAY_BASE_URL": "http://127.0.0.1:1"]

    func configuration(_ env: [String: String]) throws(ConfigurationError) -> PayBridgeConfiguration {
        try PayBridgeConfiguration.fromEnvironment(env)
    }

    /// The setting a configuration error names, or `nil` when there is none.
    func failingSetting(_ env: [String: String]) -> String? {
        do {
            _ = try configuration(env)
            return nil
        } catch {
            return error.setting
        }
    }

    @Test func theSingleAccountVariablesAreTheAccountDefault() throws {
        let configuration = try configuration(Self.base.merging([
            "AMANPAY_MERCHANT_ID": "7", "AMANPAY_SECRET_KEY": "s",
        ]) { $1 })
        #expect(configuration.allAmanpayAccounts.keys.sorted() == [.default])
        #expect(configuration.amanpay?.merchantId == 7)
        #expect(configuration.amanpayAccounts.isEmpty)
    }

    @Test func namedAccountsHaveTheirOwnMerchantIdAndSecretBesideDefault() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("pk-\(UUID().uuidString)").path
        try "pk-secret\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let configuration = try configuration(Self.base.merging([
            "AMANPAY_MERCHANT_ID": "7", "AMANPAY_SECRET_KEY": "s",
            "AMANPAY_ACCOUNTS": " bd , pk-2 ",
            "AMANPAY_BD_MERCHANT_ID": "11", "AMANPAY_BD_SECRET_KEY": "bd-secret",
            "AMANPAY_BD_BASE_URL": "http://127.0.0.1:2", "AMANPAY_BD_RESPONSE_SIGNATURE_FIELDS": "status,amount",
            "AMANPAY_PK_2_MERCHANT_ID": "12", "AMANPAY_PK_2_SECRET_KEY_FILE": path,
        ]) { $1 })
        let accounts = configuration.allAmanpayAccounts
        #expect(accounts.keys.sorted().map(\.name) == ["bd", "default", "pk-2"])
        let bd = try #require(accounts[MerchantAccount("bd")!])
        #expect(bd.merchantId == 11 && bd.secretKey.value == "bd-secret" && bd.baseURL == "http://127.0.0.1:2")
        #expect(bd.responseSignatureFields == ["status", "amount"])
        let pk = try #require(accounts[MerchantAccount("pk-2")!])
        #expect(pk.merchantId == 12 && pk.secretKey.value == "pk-secret")
        #expect(pk.baseURL == "http://127.0.0.1:1", "the base URL falls back to AMANPAY_BASE_URL")
        #expect(configuration.amanpay?.merchantId == 7)
    }

    @Test func withAListDefaultExistsOnlyWhenItsVariablesAreSet() throws {
        let configuration = try configuration(Self.base.merging([
            "AMANPAY_ACCOUNTS": "bd", "AMANPAY_BD_MERCHANT_ID": "11", "AMANPAY_BD_SECRET_KEY": "x",
        ]) { $1 })
        #expect(configuration.amanpay == nil)
        #expect(configuration.allAmanpayAccounts.keys.map(\.name) == ["bd"])
    }

    @Test func aNamedAccountNeverBorrowsTheDefaultAccountsSecrets() {
        let env = Self.base.merging([
            "AMANPAY_MERCHANT_ID": "7", "AMANPAY_SECRET_KEY": "s", "AMANPAY_ACCOUNTS": "bd",
            "AMANPAY_BD_MERCHANT_ID": "11",
        ]) { $1 }
        #expect(failingSetting(env) == "AMANPAY_BD_SECRET_KEY")
        #expect(failingSetting(env.merging(["AMANPAY_BD_MERCHANT_ID": ""]) { $1 }) == "AMANPAY_BD_MERCHANT_ID")
    }

    @Test(arguments: [
        "BD", "bd,bd", "bd,", "default", "a b", "bd-x,bd_x", String(repeating: "a", count: 33), "été",
        (1...65).map { "a\($0)" }.joined(separator: ","),
    ])
    func anInvalidAccountListNamesTheVariable(_ list: String) {
        #expect(failingSetting(Self.base.merging(["AMANPAY_ACCOUNTS": list]) { $1 }) == "AMANPAY_ACCOUNTS")
    }

    @Test func aNamedAccountNeedsABaseURLFromItselfOrTheProvider() {
        #expect(failingSetting([
            "AMANPAY_ACCOUNTS": "bd", "AMANPAY_BD_MERCHANT_ID": "11", "AMANPAY_BD_SECRET_KEY": "x",
        ]) == "AMANPAY_BD_BASE_URL")
        #expect(failingSetting([
            "AMANPAY_ACCOUNTS": "bd", "AMANPAY_BD_BASE_URL": "ftp://x", "AMANPAY_BD_MERCHANT_ID": "11",
            "AMANPAY_BD_SECRET_KEY": "x",
        ]) == "AMANPAY_BD_BASE_URL")
    }

    @Test func firstPayAccountsReadTheirOwnKeyFilesAndFallBackToTheProvidersPaths() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fp-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for name in ["pub", "priv"] { try "\(name)-pem".write(toFile: "\(directory)/\(name)", atomically: true, encoding: .utf8) }
        let env = [
            "FIRSTPAY_BASE_URL": "http://127.0.0.1:3", "FIRSTPAY_ACCOUNTS": "pk",
            "FIRSTPAY_STATUS_PATH": "/s", "FIRSTPAY_PK_SMS_PATH": "/pk-sms",
            "FIRSTPAY_PK_PUBLIC_KEY_FILE": "\(directory)/pub", "FIRSTPAY_PK_MERCHANT_PRIVATE_KEY_FILE": "\(directory)/priv",
        ]
        let configuration = try configuration(env)
        let pk = try #require(configuration.firstpayAccounts[MerchantAccount("pk")!])
        #expect(configuration.firstpay == nil)
        #expect(pk.publicKeyPEM == "pub-pem" && pk.paths.status == "/s" && pk.paths.sms == "/pk-sms")
        #expect(failingSetting(env.merging(["FIRSTPAY_PK_PUBLIC_KEY_FILE": ""]) { $1 }) == "FIRSTPAY_PK_PUBLIC_KEY_FILE")
        #expect(failingSetting(env.merging(["FIRSTPAY_PK_STATUS_PATH": "no-slash"]) { $1 }) == "FIRSTPAY_PK_STATUS_PATH")
    }

    @Test func accountNamesAreBoundedLowercaseAndMapToVariableNames() {
        #expect(MerchantAccount("bd-x_1")?.environmentInfix == "BD_X_1")
        #expect(MerchantAccount(String(repeating: "a", count: 32)) != nil)
        for bad in ["", "Bd", "b d", "b.d", "b/d", String(repeating: "a", count: 33), "ü"] {
            #expect(MerchantAccount(bad) == nil, "\(bad)")
        }
    }
}
