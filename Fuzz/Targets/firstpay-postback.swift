// Fuzz target: FirstPayPostback.verify, what the callback server does with a FirstPay postback body (F2).
// Properties: verify returns or throws a ProviderError (never crashes); when the input is a JSON object, the body
// signed here (FirstPaySigner, a key made at start-up) and sent as JSON text verifies: the canonical string survives
// serialization and parsing. (RSA signing is slow, so only inputs whose first byte is odd are signed.)
import FirstPay
import PaymentVocabulary
import ProviderCore
import StrictJSON
import _CryptoExtras

let keys: (signer: FirstPaySigner, verifier: FirstPayVerifier) = {
    let key = try! _RSA.Signing.PrivateKey(keySize: .bits2048)
    return (
        try! FirstPaySigner(privateKeyPEM: Secret(key.pemRepresentation)),
        try! FirstPayVerifier(publicKeyPEM: key.publicKey.pemRepresentation)
    )
}()

/// Makes the key before fuzzing: swift-crypto's RSA key generation leaks 16 bytes once (a BIGNUM in
/// `BoringSSLRSAPrivateKey.Backing(keySize:)`), which LeakSanitizer would blame on the first input. PayBridge itself
/// never generates keys (it reads PEM).
@_cdecl("LLVMFuzzerInitialize")
public func fuzzInitialize(_ argc: UnsafeMutablePointer<CInt>?, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?) -> CInt {
    _ = keys
    return 0
}

func code(_ body: [UInt8]) -> String? {
    do {
        _ = try FirstPayPostback.verify(body: body, verifier: keys.verifier)
        return nil
    } catch let error as ProviderError {
        return error.code.rawValue
    } catch {
        fatalError("verify threw \(error), not a ProviderError")
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFirstPayPostback(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let body = fuzzBytes(data, size)
    let asReceived = code(body)
    fuzzCheck(asReceived != nil, "an unsigned fuzz input verified")
    guard body.first.map({ $0 & 1 == 1 }) == true, let json = try? JSONValue.parse(body),
        let members = json.objectMembers
    else { return 0 }
    guard let signed = try? keys.signer.signedBody(members) else { fatalError("signing failed") }
    let result = code(Array(signed.compactText.utf8))
    fuzzCheck(result != "INVALID_POSTBACK_SIGNATURE", "a correctly signed postback does not verify")
    fuzzCheck(result == nil || result == "MALFORMED_POSTBACK", "unexpected code \(result ?? "")")
    return 0
}
