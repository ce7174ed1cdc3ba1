@testable import PayBridge
import PayBridgeContract
import PayBridgeRules
import StrictJSON
import Testing

/// Which members of an Amanpay purchase's or payout's `data` are sent on as additional fields: exactly those the
/// command's schema does not name (the schema is the one list of known fields).
@Suite struct AmanpayAdditionalFieldsTests {
    static func data(_ text: String) throws -> CommandData { CommandData(data: try JSONValue.parse(text)) }

    @Test func unknownMembersArePassedOnInOrderAndKnownOnesNever() throws {
        let data = try Self.data(
            #"{"paymentId":"p","amount":"1.00","currency":"BDT","customerEmail":"a@b.c","zeta":1,"account":"bd","#
                + #""returnUrl":"https://x","alpha":{"n":[1,2]},"notifyUrl":"https://y"}"#)
        let extra = AmanpayCommandExecutor.additionalFields(data, of: .amanpayPurchase)
        #expect(extra.map(\.key) == ["zeta", "alpha"])
        #expect(extra.last?.value == .object(["n": [1, 2]]))
    }

    @Test func aPayoutsKnownFieldsIncludeItsOwn() throws {
        let data = try Self.data(
            #"{"recipientType":"bank_account","recipientMobileNumber":"0300","customerName":"A","returnUrl":"r","x":true}"#)
        #expect(AmanpayCommandExecutor.additionalFields(data, of: .amanpayPayout).map(\.key) == ["x"])
    }
}
