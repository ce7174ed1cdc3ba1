// paybridge-sandbox: runs the provider sandbox (Amanpay + FirstPay) as a process, configured by environment.
//
//   PAYBRIDGE_SANDBOX_HOST            bind host (default 127.0.0.1)
//   PAYBRIDGE_SANDBOX_PORT            bind port (default 8089; 0 = any free port, printed at start)
//   PAYBRIDGE_SANDBOX_KEYS_DIR        folder with firstpay_public.pem, firstpay_private.pem, merchant_public.pem
//                                     (default: ../shared/providers/testdata, then shared/providers/testdata) — TEST KEYS
//   AMANPAY_MERCHANT_ID               default 1758378
//   AMANPAY_SECRET_KEY / AMANPAY_SECRET_KEY_FILE   default s3cr3t
//   AMANPAY_ACCOUNTS                  more merchants, as PayBridge reads them (`bd,pk`): each with
//                                     AMANPAY_<ACCOUNT>_MERCHANT_ID and AMANPAY_<ACCOUNT>_SECRET_KEY[_FILE]
//   PAYBRIDGE_SANDBOX_FIRSTPAY_MERCHANT_KEYS_DIRS more FirstPay merchants: comma-separated folders laid out as
//                                     PAYBRIDGE_SANDBOX_KEYS_DIR (firstpay_public.pem, firstpay_private.pem,
//                                     merchant_public.pem), one per merchant account — TEST KEYS
//   PAYBRIDGE_SANDBOX_AMANPAY_CALLBACK_URL        default Amanpay callback target (A7)
//   PAYBRIDGE_SANDBOX_FIRSTPAY_POSTBACK_URL       default FirstPay postback target
//   PAYBRIDGE_SANDBOX_AUTO_COMPLETE   SUCCESS | FAILED | CANCELLED: outcome every new payment reaches by itself
//   PAYBRIDGE_SANDBOX_AUTO_COMPLETE_DELAY_MS      delay before that outcome (default 0)
//   LOG_LEVEL                         swift-log level (default info)
import Foundation
import Logging
import ProviderCore
import ProviderSandbox
import ServiceLifecycle

let env = ProcessInfo.processInfo.environment

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("paybridge-sandbox: \(message)\n".utf8))
    exit(2)
}

func setting(_ name: String) -> String? {
    if let v = env[name], !v.isEmpty { return v }
    if let file = env[name + "_FILE"], !file.isEmpty {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { fail("\(name)_FILE: cannot read \(file)") }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }
    return nil
}

let keysDirectory: String = {
    if let d = setting("PAYBRIDGE_SANDBOX_KEYS_DIR") { return d }
    let fm = FileManager.default
    for candidate in ["../shared/providers/testdata", "shared/providers/testdata"]
    where fm.fileExists(atPath: candidate + "/firstpay_public.pem") {
        return candidate
    }
    fail("PAYBRIDGE_SANDBOX_KEYS_DIR is not set and no shared/providers/testdata folder was found")
}()

var configuration: ProviderSandboxConfiguration
do {
    configuration = try ProviderSandboxConfiguration.testKeys(directory: keysDirectory)
} catch {
    fail("PAYBRIDGE_SANDBOX_KEYS_DIR: cannot read the PEM files in \(keysDirectory)")
}
configuration.host = setting("PAYBRIDGE_SANDBOX_HOST") ?? "127.0.0.1"
if let p = setting("PAYBRIDGE_SANDBOX_PORT") {
    guard let port = Int(p), (0...65535).contains(port) else { fail("PAYBRIDGE_SANDBOX_PORT: not a port: \(p)") }
    configuration.port = port
} else {
    configuration.port = 8089
}
if let m = setting("AMANPAY_MERCHANT_ID") {
    guard let id = Int(m) else { fail("AMANPAY_MERCHANT_ID: not an integer") }
    configuration.amanpayMerchantId = id
}
if let s = setting("AMANPAY_SECRET_KEY") { configuration.amanpaySecretKey = Secret(s) }
if let list = setting("AMANPAY_ACCOUNTS") {
    // The same variables PayBridge reads for its merchant accounts, so one environment serves both.
    let names = list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
    guard names.count <= 64 else { fail("AMANPAY_ACCOUNTS: at most 64 accounts") }
    for name in names {
        guard (1...32).contains(name.utf8.count),
              name.utf8.allSatisfy({ (97...122).contains($0) || (48...57).contains($0) || $0 == 95 || $0 == 45 })
        else { fail("AMANPAY_ACCOUNTS: not an account name: \(name.prefix(40))") }
        let prefix = "AMANPAY_" + name.uppercased().replacingOccurrences(of: "-", with: "_") + "_"
        guard let id = setting(prefix + "MERCHANT_ID").flatMap({ Int($0) }) else {
            fail("\(prefix)MERCHANT_ID: required (an integer) for the account \(name)")
        }
        guard let secret = setting(prefix + "SECRET_KEY") else { fail("\(prefix)SECRET_KEY: required for the account \(name)") }
        configuration.amanpayMerchants[id] = Secret(secret)
    }
}
if let folders = setting("PAYBRIDGE_SANDBOX_FIRSTPAY_MERCHANT_KEYS_DIRS") {
    let list = folders.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
    guard list.count <= 64 else { fail("PAYBRIDGE_SANDBOX_FIRSTPAY_MERCHANT_KEYS_DIRS: at most 64 folders") }
    for folder in list {
        guard let keys = try? ProviderSandboxConfiguration.testKeys(directory: folder) else {
            fail("PAYBRIDGE_SANDBOX_FIRSTPAY_MERCHANT_KEYS_DIRS: cannot read the PEM files in \(folder)")
        }
        configuration.firstpayMerchants.append(SandboxFirstPayMerchant(
            publicKeyPEM: keys.firstpayPublicKeyPEM, privateKeyPEM: keys.firstpayPrivateKeyPEM,
            merchantPublicKeyPEM: keys.merchantPublicKeyPEM))
    }
}
configuration.amanpayCallbackURL = setting("PAYBRIDGE_SANDBOX_AMANPAY_CALLBACK_URL")
configuration.firstpayPostbackURL = setting("PAYBRIDGE_SANDBOX_FIRSTPAY_POSTBACK_URL")
if let outcome = setting("PAYBRIDGE_SANDBOX_AUTO_COMPLETE") {
    guard ["SUCCESS", "FAILED", "CANCELLED"].contains(outcome) else {
        fail("PAYBRIDGE_SANDBOX_AUTO_COMPLETE: expected SUCCESS, FAILED or CANCELLED")
    }
    configuration.autoCompleteOutcome = outcome
}
if let d = setting("PAYBRIDGE_SANDBOX_AUTO_COMPLETE_DELAY_MS") {
    guard let ms = Int(d), ms >= 0 else { fail("PAYBRIDGE_SANDBOX_AUTO_COMPLETE_DELAY_MS: not a number") }
    configuration.autoCompleteDelay = .milliseconds(ms)
}

var logger = Logger(label: "paybridge.sandbox")
logger.logLevel = setting("LOG_LEVEL").flatMap(Logger.Level.init(rawValue:)) ?? .info

let host = configuration.host
let sandbox: ProviderSandbox
do {
    sandbox = try ProviderSandbox(configuration: configuration, logger: logger) { port in
        // Written unbuffered so scripts waiting for this line see it at once.
        FileHandle.standardOutput.write(Data("paybridge-sandbox listening on http://\(host):\(port)\n".utf8))
    }
} catch {
    fail("\(error)")
}
// SIGTERM/SIGINT: graceful shutdown (in-flight requests finish, then the callback sender stops).
let group = ServiceGroup(
    configuration: .init(services: [sandbox], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
do {
    try await group.run()
} catch {
    fail("\(error)")
}
