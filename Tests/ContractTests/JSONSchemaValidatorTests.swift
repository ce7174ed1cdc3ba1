import StrictJSON
import Testing

@testable import PayBridgeContract

@Suite struct JSONSchemaValidatorTests {
    func errors(_ schema: String, _ instance: String) throws -> [SchemaValidationError] {
        try JSONSchemaValidator(schema: JSONValue.parse(schema)).validate(JSONValue.parse(instance))
    }

    @Test func typesIncludingIntegerAndNumber() throws {
        #expect(try errors(#"{"type":"integer"}"#, "12.0").isEmpty)
        #expect(try errors(#"{"type":"integer"}"#, "12.5").map(\.message) == ["must be integer, not number"])
        #expect(try errors(#"{"type":"number"}"#, "12").isEmpty)
        #expect(try errors(#"{"type":["string","null"]}"#, "null").isEmpty)
        #expect(try errors(#"{"type":["string","null"]}"#, "true").map(\.message) == ["must be string or null, not boolean"])
    }

    @Test func pathsAreJSONPointers() throws {
        let schema = #"{"properties":{"a/b":{"properties":{"c~d":{"items":{"type":"string"}}}}}}"#
        let e = try errors(schema, #"{"a/b":{"c~d":["x",1]}}"#)
        #expect(e.map(\.instancePath) == ["/a~1b/c~0d/1"])
        #expect(e.map(\.schemaPath) == ["#/properties/a~1b/properties/c~0d/items/type"])
    }

    @Test func refsConstEnumAndNumbers() throws {
        let schema = ##"{"$defs":{"money":{"type":"string","pattern":"^[0-9]+\\.[0-9]{2}$"}},"properties":{"m":{"$ref":"#/$defs/money"},"k":{"const":1},"e":{"enum":["a",2.50]},"n":{"minimum":0,"exclusiveMaximum":10}}}"##
        #expect(try errors(schema, #"{"m":"1.00","k":1.0,"e":2.5,"n":0}"#).isEmpty)
        let e = try errors(schema, #"{"m":"1.0","k":2,"e":"b","n":10}"#)
        #expect(e.map(\.instancePath) == ["/e", "/k", "/m", "/n"])
        #expect(throws: SchemaError.self) { try JSONSchemaValidator(schema: JSONValue.parse(##"{"$ref":"#/$defs/nope"}"##)) }
        #expect(throws: SchemaError.self) { try JSONSchemaValidator(schema: JSONValue.parse(#"{"pattern":"(("}"#)) }
    }

    @Test func recursiveRefsValidateNestedInstancesAndEndlessOnesStopAtTheDepthLimit() throws {
        let tree = ##"{"$defs":{"node":{"type":"object","required":["v"],"properties":{"v":{"type":"integer"},"kids":{"type":"array","items":{"$ref":"#/$defs/node"}}}}},"$ref":"#/$defs/node"}"##
        #expect(try errors(tree, #"{"v":1,"kids":[{"v":2,"kids":[{"v":3}]}]}"#).isEmpty)
        let e = try errors(tree, #"{"v":1,"kids":[{"v":2,"kids":[{"v":"x"},{}]}]}"#)
        #expect(e.map(\.instancePath) == ["/kids/0/kids/0/v", "/kids/0/kids/1"])
        #expect(e.map(\.schemaPath) == ["#/$defs/node/properties/v/type", "#/$defs/node/required"])
        // A schema that refers to itself without consuming the instance never finishes a walk on its own.
        let endless = try errors(##"{"$ref":"#"}"##, "1")
        #expect(endless.map(\.message) == ["schema nesting too deep (recursive $ref?)"])
    }

    @Test func compositionAndConditionals() throws {
        let oneOf = #"{"oneOf":[{"type":"integer"},{"minimum":5}]}"#
        #expect(try errors(oneOf, "3").isEmpty)
        #expect(try errors(oneOf, "5.5").isEmpty)
        #expect(try errors(oneOf, "7").map(\.message) == ["must match exactly one of 2 alternatives, matches 2"])
        let conditional = #"{"if":{"properties":{"p":{"const":"a"}}},"then":{"required":["x"]},"else":{"required":["y"]}}"#
        #expect(try errors(conditional, #"{"p":"a","x":1}"#).isEmpty)
        #expect(try errors(conditional, #"{"p":"a","y":1}"#).map(\.schemaPath) == ["#/then/required"])
        #expect(try errors(conditional, #"{"p":"b","y":1}"#).isEmpty)
        #expect(try errors(#"{"not":{"type":"null"}}"#, "null").map(\.message) == ["is not allowed"])
        #expect(try errors(#"{"properties":{"x":false}}"#, #"{"x":1}"#).map(\.instancePath) == ["/x"])
    }

    @Test func stringLengthsCountCodePoints() throws {
        #expect(try errors(#"{"maxLength":2}"#, #""é☃""#).isEmpty)
        #expect(try errors(#"{"minLength":3}"#, #""é☃""#).count == 1)
    }

    @Test func dateTimeFormatIsLenientRFC3339() throws {
        for ok in ["2026-11-21T06:00:00Z", "2026-11-21T06:00:00.123456+05:30", "2026-11-21t06:00:00z"] {
            #expect(try errors(#"{"format":"date-time"}"#, "\"\(ok)\"").isEmpty, "\(ok)")
        }
        for bad in [
            "2026-11-21", "2026-13-01T00:00:00Z", "2026-11-21T06:00:00", "21/11/2026 06:00", "2026-11-21T06:00:00.Z",
            "2026-11-21T24:00:00Z", "2026-11-21T06:00:00+0530", "2026-11-21T06:00:00Z ", "2026-11-21T06:00:00Zx",
            "2026-11-2aT06:00:00Z", "",
        ] {
            #expect(try errors(#"{"format":"date-time"}"#, "\"\(bad)\"").count == 1, "\(bad)")
        }
    }
}
