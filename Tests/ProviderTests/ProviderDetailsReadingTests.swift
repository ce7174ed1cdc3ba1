import Amanpay
import FirstPay
import PaymentVocabulary
import StrictJSON
import Testing

/// Each client names the provider's fields beyond the common ones once, as it reads a body (``ProviderDetails``):
/// bounded strings (numbers as their text), anything else left in `raw` only.
@Suite struct ProviderDetailsReadingTests {
    @Test func firstPayAndAmanpayBodiesGiveTheirNamedFields() throws {
        let postback = try JSONValue.parse(
            #"{"id":"3f6c","status":"FAILED","paymentMethodId":"pm_bkash","merchantUserId":"user-5","#
                + #""createdAt":"2024-05-01T10:00:00.000Z","failedCode":"INCORRECT_AMOUNT","#
                + #""attachment":{"id":"m-1","url":"https://cdn.example/1.png","extra":{"deep":true}}}"#)
        let firstpay = FirstPayPayment(json: postback).result(operation: "status", httpStatus: 200, rawBody: "")
        #expect(JSONValue.object(firstpay.details.fields) == [
            "paymentMethodId": "pm_bkash", "merchantUserId": "user-5", "failedCode": "INCORRECT_AMOUNT",
            "providerCreatedAt": "2024-05-01T10:00:00.000Z",
            "attachment": ["id": "m-1", "url": "https://cdn.example/1.png"],
        ])
        let amanpay = AmanpayPaymentObject(json: try JSONValue.parse(#"{"customerName":"Mark Cooper","failedCode":"x"}"#))
            .result(operation: "status", httpStatus: 200, rawBody: "")
        #expect(JSONValue.object(amanpay.details.fields) == ["customerName": "Mark Cooper"])
        let empty = FirstPayPayment(json: try JSONValue.parse(#"{"failedCode":null}"#))
            .result(operation: "status", httpStatus: 200, rawBody: "")
        #expect(empty.details.fields.members.isEmpty)
    }

    @Test func aFieldLongerThanTheBoundIsNotNamed() throws {
        let long = String(repeating: "a", count: ProviderDetails.maximumLength + 1)
        let body = try JSONValue.parse(Array(#"{"customerName":"\#(long)"}"#.utf8))
        #expect(AmanpayPaymentObject(json: body).result(operation: "status", httpStatus: 200, rawBody: "")
            .details.customerName == nil)
        #expect(ProviderDetails.text(.number(JSONNumber(42))) == "42")
    }
}
