import Crypto
import Foundation
import PaymentVocabulary
import _CryptoExtras
public import ProviderCore
public import StrictJSON

/// F1 signing with an RSA private key: base64(RSASSA-PKCS1-v1_5 SHA-256 over the canonical string's UTF-8).
public struct FirstPaySigner: Sendable {
    private let key: _RSA.Signing.PrivateKey
    public let canonicalizer: any FirstPayCanonicalizer

    /// - Throws: a `configuration` ``ProviderError`` (`INVALID_PRIVATE_KEY`) that never shows the key.
    public init(privateKeyPEM: Secret, canonicalizer: any FirstPayCanonicalizer = JavaScriptTemplateCanonicalizer()) throws {
        do {
            self.key = try _RSA.Signing.PrivateKey(pemRepresentation: privateKeyPEM.value)
        } catch {
            throw ProviderError(
                provider: .firstpay, operation: "configure", errorClass: .configuration, code: .invalidPrivateKey,
                message: "the private key is not a readable RSA PEM")
        }
        self.canonicalizer = canonicalizer
    }

    /// The `hash` of a canonical string.
    public func sign(canonical: String) throws -> String {
        let signature = try key.signature(for: Array(canonical.utf8), padding: .insecurePKCS1v1_5)
        return signature.rawRepresentation.base64EncodedString()
    }

    /// Adds `hash` to a body's members (any existing `hash` is replaced).
    public func signedBody(_ members: [JSONMember]) throws -> JSONValue {
        let withoutHash = members.filter { $0.key != "hash" }
        let hash = try sign(canonical: canonicalizer.canonicalString(of: withoutHash))
        return .object(JSONObject(withoutHash + [JSONMember("hash", .string(hash))]))
    }
}

/// F1/F2 verification with an RSA public key.
public struct FirstPayVerifier: Sendable {
    private let key: _RSA.Signing.PublicKey
    public let canonicalizer: any FirstPayCanonicalizer

    /// - Throws: a `configuration` ``ProviderError`` (`INVALID_PUBLIC_KEY`).
    public init(publicKeyPEM: String, canonicalizer: any FirstPayCanonicalizer = JavaScriptTemplateCanonicalizer()) throws {
        do {
            self.key = try _RSA.Signing.PublicKey(pemRepresentation: publicKeyPEM)
        } catch {
            throw ProviderError(
                provider: .firstpay, operation: "configure", errorClass: .configuration, code: .invalidPublicKey,
                message: "the public key is not a readable RSA PEM")
        }
        self.canonicalizer = canonicalizer
    }

    /// `true` when `hash` (base64) signs `canonical`.
    public func verify(hash: String, canonical: String) -> Bool {
        guard let raw = Data(base64Encoded: hash) else { return false }
        return key.isValidSignature(
            _RSA.Signing.RSASignature(rawRepresentation: raw), for: Array(canonical.utf8), padding: .insecurePKCS1v1_5)
    }

    /// F2: removes `hash`, canonicalizes every other top-level member as received, verifies.
    public func verify(body: JSONValue) -> Bool {
        guard let members = body.objectMembers, let hash = body["hash"]?.stringValue else { return false }
        return verify(hash: hash, canonical: canonicalizer.canonicalString(of: members.filter { $0.key != "hash" }))
    }
}
