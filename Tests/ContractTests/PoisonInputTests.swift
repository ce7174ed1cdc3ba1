import Testing

@testable import PayBridgeContract
@testable import StrictJSON

/// no command can crash a worker. Each input here once killed the process (stack overflow in the
/// backtracking pattern matcher) or cost seconds per message.
@Suite struct PoisonInputTests {
    let decoder = CommandDecoder()
    static let contentTypePattern = #"^application/(.+\+)?json(;.*)?$"#
    static let amountPattern = #"^(0\.(0[1-9]|[1-9][0-9]?)|[1-9][0-9]*(\.[0-9]{1,2})?)$"#

    func body(datacontenttype: String, amount: String = "250.50") -> [UInt8] {
        Array(
            """
            {"specversion":"1.0","id":"cmd-1","type":"paybridge.amanpay.purchase.v1","source":"/tests",\
            "time":"2026-11-21T06:00:00Z","datacontenttype":"\(datacontenttype)","data":{"paymentId":"p-1",\
            "amount":"\(amount)","currency":"BDT","customerEmail":"a@b.c"}}
            """.utf8)
    }

    func violations(_ body: [UInt8]) -> [SchemaValidationError]? {
        guard case .failure(let r) = decoder.decode(body), case .schemaViolation(let v) = r.reason else { return nil }
        return v
    }

    @Test func theMatcherTakesLongTextWithoutRecursing() throws {
        let contentType = try #require(ASCIIPattern(Self.contentTypePattern))
        let long = "application/json;" + String(repeating: "a", count: 50_000)
        #expect(contentType.matches(long) == true)
        #expect(contentType.matches(long + "\n") == false)  // `.` does not match a line break
        let amount = try #require(ASCIIPattern(Self.amountPattern))
        let million = "1" + String(repeating: "0", count: 1_000_000)
        #expect(amount.matches(million) == true)
        #expect(amount.matches(million + ".5") == true)
        #expect(amount.matches(million + ".505") == false)
        #expect(amount.matches(million + "x") == false)
        // Nested quantifiers that make a backtracker exponential are linear here.
        let nested = try #require(ASCIIPattern("^(a+)+$"))
        #expect(nested.matches(String(repeating: "a", count: 100_000) + "b") == false)
    }

    /// The validator with only a `pattern` (no `maxLength` to stop the text first) on the same texts.
    @Test func theValidatorMatchesLongTextsAgainstPatterns() throws {
        let contentType = try JSONSchemaValidator(schema: ["pattern": .string(Self.contentTypePattern)])
        #expect(contentType.isValid(.string("application/json;" + String(repeating: "a", count: 50_000))))
        #expect(!contentType.isValid(.string("text/json;" + String(repeating: "a", count: 50_000))))
        let amount = try JSONSchemaValidator(schema: ["pattern": .string(Self.amountPattern)])
        #expect(amount.isValid(.string("1" + String(repeating: "0", count: 1_000_000))))
        #expect(!amount.isValid(.string(String(repeating: "9", count: 1_000_000) + ".001")))
        // Non-ASCII text goes to ICU: bounded by length before it gets there.
        let accented = "application/json;" + String(repeating: "é", count: 25_000)
        #expect(contentType.isValid(.string(accented)))
        #expect(!contentType.isValid(.string(accented + String(repeating: "é", count: 40_000))))
    }

    @Test func aLongDatacontenttypeIsASchemaViolation() throws {
        let v = try #require(violations(body(datacontenttype: "application/json;" + String(repeating: "a", count: 50_000))))
        #expect(v.map(\.schemaPath) == ["#/properties/datacontenttype/maxLength"])
        let accented = try #require(violations(body(datacontenttype: "application/json;" + String(repeating: "é", count: 20_000))))
        #expect(accented.map(\.schemaPath) == ["#/properties/datacontenttype/maxLength"])
    }

    @Test func aLongAmountIsRejected() throws {
        // Under the parser's string bound: the schema says too long (and does not also run the pattern).
        let v = try #require(violations(body(datacontenttype: "application/json", amount: String(repeating: "1", count: 60_000))))
        #expect(v.map(\.schemaPath) == ["#/$defs/decimalAmount/maxLength"])
        // A megabyte: over the decoder's body cap before anything is parsed; and with the cap raised, the parser
        // refuses the string.
        let megabyte = body(datacontenttype: "application/json", amount: String(repeating: "1", count: 1_000_000))
        guard case .failure(let capped) = decoder.decode(megabyte), case .tooLarge = capped.reason else {
            Issue.record("expected COMMAND_TOO_LARGE")
            return
        }
        #expect(capped.code == "COMMAND_TOO_LARGE")
        let uncapped = CommandDecoder(maximumBytes: 4 << 20)
        guard case .failure(let r) = uncapped.decode(megabyte), case .badJSON(let e) = r.reason else {
            Issue.record("expected BAD_JSON")
            return
        }
        #expect(e.reason == "string longer than 65536 bytes")
        #expect(r.commandId == nil)
    }

    @Test func aHugeNumberLiteralIsDecomposedInOnePass() throws {
        // 300,000 zeros after the point: the parser refuses such a literal, but `JSONNumber` itself stays linear.
        let zeros = String(repeating: "0", count: 300_000)
        let tiny = try #require(JSONNumber("0.\(zeros)1"))
        #expect(tiny.compare(to: try #require(JSONNumber("1e-300001"))) == 0)
        #expect(tiny.compare(to: JSONNumber(0)) == 1)
        #expect(!tiny.isInteger)
        let huge = try #require(JSONNumber("1\(zeros)"))
        #expect(huge.compare(to: try #require(JSONNumber("1e300000"))) == 0)
        #expect(huge.isInteger)
        #expect(huge.intValue == nil)
        let d = huge.decomposed
        #expect(d.digits == [UInt8(ascii: "1")] && d.exponent == 300_000 && !d.negative)
        #expect(try #require(JSONNumber("-0.\(zeros)")).decomposed.digits.isEmpty)
    }
}
