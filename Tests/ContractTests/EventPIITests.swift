import PayBridgeContract
import PaymentVocabulary
import StrictJSON
import Testing

/// `PAYBRIDGE_EVENT_PII`: account and wallet numbers in provider bodies keep their last 4 characters in events.
@Suite struct EventPIITests {
    static let success = try! JSONValue.parse(
        #"{"transactionId":"62861","status":"SUCCESS","amount":250.51,"customerName":"Mark Cooper","#
            + #""customerAccountNumber":"185927571757184","bkashNumber":1712345678,"nested":{"nagadNumber":"0181"}}"#)
    static let postback = try! JSONValue.parse(
        #"{"id":"3f6c","status":"SUCCESS","clientFieldsValues":[{"key":"wallet","value":"01712345678"},"#
            + #"{"key":"name","value":"Mark"}],"attachment":{"url":"https://x"}}"#)

    @Test func accountAndWalletNumbersKeepOnlyTheirLastFourCharacters() {
        let masked = EventPII.masked.apply(Self.success)
        #expect(masked["customerAccountNumber"] == "***********7184")
        #expect(masked["bkashNumber"] == "******5678", "a number is masked as text")
        #expect(masked["nested"]?["nagadNumber"] == "****", "four characters or fewer: all masked")
        // Everything else is untouched, in its order.
        #expect(masked["transactionId"] == "62861" && masked["customerName"] == "Mark Cooper")
        #expect(masked["amount"] == Self.success["amount"])
        #expect(masked.objectMembers?.map(\.key) == Self.success.objectMembers?.map(\.key))
    }

    @Test func everyFirstPayClientFieldValueIsMasked() {
        let masked = EventPII.masked.apply(Self.postback)
        let fields = masked["clientFieldsValues"]?.arrayValue ?? []
        #expect(fields.map { $0["value"] } == ["*******5678", "****"])
        #expect(fields.map { $0["key"] } == ["wallet", "name"])
        #expect(masked["attachment"] == Self.postback["attachment"])
    }

    @Test func signatureMaterialNeverReachesAnEventInEitherSetting() throws {
        // A FirstPay postback's `hash` (and the `publicKey` it names) would let any event consumer replay it.
        let signed = try JSONValue.parse(#"{"id":"3f6c","status":"SUCCESS","publicKey":"-----BEGIN PUBLIC KEY-----","#
            + #""hash":"RGzlcPs9Co+Pmiz33pXe","nested":{"signature":"ab"}}"#)
        for setting in EventPII.allCases {
            let event = setting.apply(signed)
            #expect(event == ["id": "3f6c", "status": "SUCCESS", "nested": [:]], "\(setting)")
        }
    }

    @Test func fullLeavesTheBodyAsTheProviderSentIt() {
        #expect(EventPII.full.apply(Self.success) == Self.success)
        #expect(EventPII.full.apply(Self.postback) == Self.postback)
        #expect(EventPII(rawValue: "masked") == .masked && EventPII(rawValue: "everything") == nil)
    }
}

/// The provider data listed there has named, schema-described fields.
@Suite struct ProviderDetailsTests {
    @Test func namedProviderFieldsAreWrittenIntoEventsThatValidate() throws {
        let firstpay = ProviderDetails(
            paymentMethodId: "pm_bkash", merchantUserId: "user-5", failedCode: "INCORRECT_AMOUNT",
            providerCreatedAt: "2024-05-01T10:00:00.000Z",
            attachment: .init(id: "m-1", url: "https://cdn.example/1.png"))
        #expect(JSONValue.object(firstpay.fields) == [
            "paymentMethodId": "pm_bkash", "merchantUserId": "user-5", "failedCode": "INCORRECT_AMOUNT",
            "providerCreatedAt": "2024-05-01T10:00:00.000Z",
            "attachment": ["id": "m-1", "url": "https://cdn.example/1.png"],
        ])
        #expect(ProviderDetails().fields.members.isEmpty)

        var outcome = PaymentOutcome(commandId: nil, provider: .firstpay, operation: "pay_in", status: .failed,
                                     final: true, providerDetails: firstpay)
        outcome.notificationId = "n-1"
        let event = OutcomeEvents.callback(outcome)
        #expect(event.event.data?["failedCode"] == "INCORRECT_AMOUNT")
        #expect(OutcomeEvents.validate(event.event).isEmpty)
        outcome.commandId = "c-1"
        #expect(OutcomeEvents.validate(OutcomeEvents.response(outcome).event).isEmpty)
    }
}
