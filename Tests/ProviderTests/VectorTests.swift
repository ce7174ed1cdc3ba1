import Amanpay
import FirstPay
import Foundation
import PaymentVocabulary
import ProviderCore
import StrictJSON
import Testing

@Suite("Test vectors in shared/providers/testdata")
struct VectorTests {
    @Test func amanpaySHA512VectorsMatch() throws {
        let vectors = try testdataJSON("amanpay_vectors.json").arrayElements ?? []
        #expect(vectors.count == 12)
        for v in vectors {
            let hashed = try #require(v["hashed"]?.stringValue)
            let secret = try #require(v["secret"]?.stringValue)
            let expected = try #require(v["sha512"]?.stringValue)
            #expect(hashed.hasSuffix(secret))
            let values = [String(hashed.dropLast(secret.count))]
            #expect(AmanpaySignature.sign(values, secret: Secret(secret)) == expected, "\(v["name"]?.stringValue ?? "")")
        }
    }

    @Test func amanpayA2BodiesVerifyWithTheirHeaders() throws {
        let vectors = try testdataJSON("amanpay_vectors.json").arrayElements ?? []
        let bodies = vectors.filter { $0["body"] != nil }
        #expect(bodies.count == 4)
        for v in bodies {
            let body = try JSONValue.parse(try #require(v["body"]?.stringValue))
            let header = String(try #require(v["header"]?.stringValue).dropFirst("Authorization: ".count))
            let values = try #require(AmanpaySignature.responseValues(of: body, fields: AmanpaySignature.defaultResponseFields))
            #expect(values.joined() + "s3cr3t" == v["hashed"]?.stringValue)
            #expect(AmanpaySignature.verifyResponse(body, authorization: header, secret: "s3cr3t"))
            #expect(AmanpaySignature.verifyResponse(body, authorization: header.uppercased(), secret: "s3cr3t"))
            #expect(!AmanpaySignature.verifyResponse(body, authorization: header, secret: "other"))
        }
    }

    @Test func amanpayRequestSignaturesOfTheDocumentedCases() {
        let s: Secret = "s3cr3t"
        // A1 purchase, amount 250 rendered 250.00
        let amount = DecimalAmount("250")!.twoDecimalText!
        #expect(amount == "250.00")
        #expect(
            AmanpaySignature.sign([amount, "BDT", "1758378", "payment_812"], secret: s)
                == "ace7988be6ee729f7d1b9b9b8f8c49e3fde8415d4773bf3f269a6b725c36a157d5b4015c6b0c44cc54b32a77e8b05a78ef5a57a0e7a7367866e4129fac2f777c")
        // A1 payout without mobile: "" appended
        #expect(
            AmanpaySignature.sign(["1000.00", "PKR", "1758378", "payout_78", ""], secret: s)
                == "b91c167ee9d17d77250e12b1e43d1217343d775587e9137c8e4941bb8fdb2f0efb8241f1d3d0f16caf020e082ab28aaed9ddbe726a3af4921318cb473ec2a159")
    }

    static let firstpayVectors = [
        "firstpay_vector_a_pay_in.json", "firstpay_vector_b_status.json", "firstpay_vector_c_postback_success.json",
        "firstpay_vector_d_postback_correction.json", "firstpay_vector_e_pay_out.json",
    ]

    @Test(arguments: firstpayVectors)
    func firstpayCanonicalSignatureAndVerification(file: String) throws {
        let vector = try testdataJSON(file)
        let body = try #require(vector["body"])
        let members = try #require(body.objectMembers)
        let canonical = JavaScriptTemplateCanonicalizer().canonicalString(of: members.filter { $0.key != "hash" })
        #expect(canonical == vector["canonical"]?.stringValue)
        let signer = try FirstPaySigner(privateKeyPEM: Secret(try testdata(try #require(vector["signedWith"]?.stringValue))))
        let hash = try signer.sign(canonical: canonical)
        #expect(hash == vector["expectedHash"]?.stringValue)
        #expect(hash == body["hash"]?.stringValue)
        let verifier = try FirstPayVerifier(publicKeyPEM: try testdata(try #require(vector["verifyWith"]?.stringValue)))
        #expect(verifier.verify(body: body))
        // Any change to a signed value breaks verification.
        let tampered = JSONValue.object(JSONObject(members + [JSONMember("extra", .number(JSONNumber(1)))]))
        #expect(!verifier.verify(body: tampered))
    }

    @Test func firstpayPostbackVectorsVerifyThroughTheClient() async throws {
        let client = try FirstPayClient(
            configuration: try firstpayConfiguration(baseURL: "http://127.0.0.1:9"), logger: quietLogger)
        do {
            try checkPostbacks(client)
            try await client.shutdown()
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    func checkPostbacks(_ client: FirstPayClient) throws {
        for file in ["firstpay_vector_c_postback_success.json", "firstpay_vector_d_postback_correction.json"] {
            let body = try #require(try testdataJSON(file)["body"]).compactText
            let result = try client.verifyPostback(body: Array(body.utf8))
            #expect(result.providerPaymentId == "3f6c1e52-8a4b-4d2e-9c1a-5b7e2d9f0a11")
            #expect(result.merchantPaymentId == "order-42")
            #expect(result.amount == DecimalAmount("500"))
            #expect(result.currency == "BDT")
            #expect(result.isFinal)
        }
        let d = try #require(try testdataJSON("firstpay_vector_d_postback_correction.json")["body"]).compactText
        let corrected = try client.verifyPostback(body: Array(d.utf8))
        #expect(corrected.status == .failed)
        #expect(corrected.error?.code == "INCORRECT_AMOUNT")
        // Bad signature: rejected.
        let bad = d.replacingOccurrences(of: "INCORRECT_AMOUNT", with: "NO_AMOUNT")
        #expect(throws: ProviderError.self) { try client.verifyPostback(body: Array(bad.utf8)) }
    }

    @Test func firstpayAmountRenderingFollowsF5() {
        #expect(DecimalAmount("500.00")!.minimalText == "500")
        #expect(DecimalAmount("100.50")!.minimalText == "100.5")
        #expect(JavaScriptNumber.string(fromJSONNumber: "500.0") == "500")
        #expect(JavaScriptNumber.string(fromJSONNumber: "100.50") == "100.5")
        #expect(JavaScriptNumber.string(fromJSONNumber: "1e21") == "1e+21")
        #expect(JavaScriptNumber.string(fromJSONNumber: "1e20") == "100000000000000000000")
        #expect(JavaScriptNumber.string(fromJSONNumber: "0.000001") == "0.000001")
        #expect(JavaScriptNumber.string(fromJSONNumber: "0.0000001") == "1e-7")
        #expect(JavaScriptNumber.string(fromJSONNumber: "-0") == "0")
        #expect(JavaScriptNumber.string(fromJSONNumber: "123.456e1") == "1234.56")
        #expect(JavaScriptNumber.string(fromJSONNumber: "0.1") == "0.1")
        #expect(JavaScriptNumber.string(fromJSONNumber: "1.5e-10") == "1.5e-10")
        #expect(JavaScriptTemplateCanonicalizer.render(.array([.null, .number(JSONNumber(trusted: "1.50")), .string("x"), .bool(true)])) == ",1.5,x,true")
    }
}
