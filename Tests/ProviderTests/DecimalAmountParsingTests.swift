@testable import PaymentVocabulary
import Testing

/// ``DecimalAmount/init(_:)`` reads plain amounts in place and hands exponent forms to the general parse; both
/// must agree on every text (validity, value, sign and every rendering).
@Suite("DecimalAmount parsing")
struct DecimalAmountParsingTests {
    static let edges = [
        "", "0", "-0", "00", "-00.000", "0.0", "007.10", "250.50", "-250.5", "1.", ".5", "-", "-.5", "1..2", "1.2.3",
        "1e3", "1E3", "2.5e-1", "-0e5", "1e", "1e+", "+1", " 1", "1 ", "1,5", "٣", "1\u{0}", "0.000000001",
        "123456789012345678901234567890.123456789012345678901234567890",
    ]

    func expectSameParse(_ text: String) {
        let fast = DecimalAmount(text)
        let general = DecimalAmount(generalForm: text)
        #expect((fast == nil) == (general == nil), "\(text.debugDescription): valid?")
        guard let fast, let general else { return }
        #expect(fast == general, "\(text.debugDescription)")
        #expect(fast.text == text)
        #expect(fast.isNegative == general.isNegative, "\(text.debugDescription)")
        #expect(fast.isZero == general.isZero, "\(text.debugDescription)")
        #expect(fast.minimalText == general.minimalText, "\(text.debugDescription)")
        #expect(fast.twoDecimalText == general.twoDecimalText, "\(text.debugDescription)")
        #expect(fast.significantDigits == general.significantDigits, "\(text.debugDescription)")
        #expect(fast.hashValue == general.hashValue, "\(text.debugDescription)")
    }

    @Test func plainAndGeneralParsesAgreeOnEdges() {
        for text in Self.edges { expectSameParse(text) }
    }

    /// Every text of up to five characters over the characters that matter (digits, `.`, `-`, `+`, `e`, a space).
    @Test func plainAndGeneralParsesAgreeOnEveryShortText() {
        let alphabet: [Character] = ["0", "1", "9", ".", "-", "+", "e", " "]
        var texts: [String] = [""]
        var previous: [String] = [""]
        for _ in 1...5 {
            previous = previous.flatMap { prefix in alphabet.map { prefix + String($0) } }
            texts += previous
        }
        #expect(texts.count == 37_449)
        for text in texts { expectSameParse(text) }
    }

    @Test func plainAmountsKeepTheirDigits() throws {
        let amount = try #require(DecimalAmount("-000120.5000"))
        #expect(amount.isNegative)
        #expect(amount.minimalText == "-120.5")
        #expect(amount.twoDecimalText == "-120.50")
        #expect(DecimalAmount("-0.00")?.isNegative == false)
    }
}
