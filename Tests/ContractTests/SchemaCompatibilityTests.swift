import Foundation
import StrictJSON
import Testing

@testable import PayBridgeContract

/// Within v1 only additive changes are allowed. `Tests/ContractBaseline/` holds a frozen copy of every v1 schema as
/// first published; the current schemas must accept everything the baseline accepts. Never edit a baseline file to
/// make this pass: make the change additive, or publish a v2 type.
@Suite struct SchemaCompatibilityTests {
    static let baselineFiles = Repo.schemaFiles(under: Repo.baseline)

    @Test func everyV1SchemaHasABaseline() {
        let current = Set(ContractSchemas.paths.filter { $0.contains(".v1.") })
        #expect(!Self.baselineFiles.isEmpty, "no baseline under \(Repo.baseline.path)")
        #expect(current.isSuperset(of: Self.baselineFiles), "a v1 schema was removed")
        #expect(
            Set(Self.baselineFiles) == current,
            "a new v1 schema has no frozen baseline: copy it to Tests/ContractBaseline/ when it is published")
    }

    @Test(arguments: baselineFiles)
    func currentSchemaOnlyWidensTheBaseline(_ path: String) throws {
        let baseline = try JSONValue.parse(Repo.read(Repo.baseline.appendingPathComponent(path)))
        let current = try JSONValue.parse(#require(ContractSchemas.text(atPath: path), "\(path) was removed"))
        let issues = SchemaCompatibility.narrowings(baseline: baseline, current: current)
        #expect(issues.isEmpty, "\(path) narrowed v1: \(issues)")
        // What the baseline's examples accepted, the current schema still accepts.
        let validator = try JSONSchemaValidator(schema: current)
        for example in baseline["examples"]?.arrayValue ?? [] {
            #expect(validator.validate(example).isEmpty, "\(path): a baseline example no longer validates")
        }
    }

    // MARK: The checker itself, on synthetic schemas

    static let base = """
        {"type":"object","required":["a"],
         "properties":{
           "a":{"type":"string","pattern":"^[0-9]+$","maxLength":10,"minLength":1},
           "b":{"type":["integer","null"],"minimum":0,"maximum":100},
           "c":{"enum":["x","y","z"]},
           "d":{"type":"array","items":{"$ref":"#/$defs/item"}},
           "e":{"type":"number"}
         },
         "additionalProperties":true,
         "$defs":{"item":{"type":"object","properties":{"k":{"type":"string"}}}}}
        """

    func narrowings(_ edit: (inout JSONObject) -> Void) throws -> [CompatibilityIssue] {
        let baseline = try JSONValue.parse(Self.base)
        var o = baseline.objectValue!
        edit(&o)
        return SchemaCompatibility.narrowings(baseline: baseline, current: .object(o))
    }

    func setProperty(_ o: inout JSONObject, _ name: String, _ schema: String) {
        var props = o["properties"]!.objectValue!
        props[name] = try! JSONValue.parse(schema)
        o["properties"] = .object(props)
    }

    @Test func identicalSchemaHasNoIssues() throws {
        #expect(try narrowings { _ in }.isEmpty)
    }

    @Test func wideningsAreAllowed() throws {
        let issues = try narrowings { o in
            setProperty(&o, "a", #"{"type":["string","null"],"pattern":"^[0-9]+$","maxLength":20}"#)  // wider
            setProperty(&o, "b", #"{"type":["number","null"],"minimum":-5}"#)
            setProperty(&o, "c", #"{"enum":["x","y","z","w"]}"#)
            setProperty(&o, "f", #"{"type":"string"}"#)  // new optional property
            setProperty(&o, "e", #"{}"#)
        }
        #expect(issues.isEmpty, "\(issues)")
    }

    @Test func detectsALostProperty() throws {
        let issues = try narrowings { o in
            var props = o["properties"]!.objectValue!
            props["c"] = nil
            o["properties"] = .object(props)
        }
        #expect(issues.map(\.path) == ["#/properties/c"])
        #expect(issues.first?.message.contains("removed") == true)
    }

    @Test func detectsANarrowedType() throws {
        #expect(try narrowings { setProperty(&$0, "e", #"{"type":"integer"}"#) }.map(\.path) == ["#/properties/e/type"])
        #expect(
            try narrowings { setProperty(&$0, "b", #"{"type":"integer","minimum":0,"maximum":100}"#) }.map(\.message) == [
                "type 'null' is no longer accepted"
            ])
        // Type restriction where there was none.
        let issues = try narrowings { setProperty(&$0, "c", #"{"type":"string","enum":["x","y","z"]}"#) }
        #expect(issues.map(\.path) == ["#/properties/c/type"])
    }

    /// A `type` naming every JSON type restricts nothing (how `data.raw`, any JSON value, got a `type` for code
    /// generators); one type fewer is a restriction, and `integer` does not stand for `number`.
    @Test func aTypeNamingEveryJSONTypeIsNoRestriction() throws {
        let baseline = try JSONValue.parse(#"{"properties":{"raw":{"description":"any JSON"}}}"#)
        func issues(_ types: String) throws -> [CompatibilityIssue] {
            let current = try JSONValue.parse(#"{"properties":{"raw":{"type":\#(types)}}}"#)
            return SchemaCompatibility.narrowings(baseline: baseline, current: current)
        }
        #expect(try issues(#"["object","array","string","number","boolean","null"]"#).isEmpty)
        #expect(try issues(#"["null","boolean","integer","number","string","array","object"]"#).isEmpty)
        #expect(try issues(#"["object","array","number","boolean","null"]"#).map(\.path) == ["#/properties/raw/type"])
        #expect(try issues(#"["object","array","string","integer","boolean","null"]"#).map(\.path) == [
            "#/properties/raw/type"
        ])
    }

    @Test func detectsARemovedEnumValue() throws {
        let issues = try narrowings { setProperty(&$0, "c", #"{"enum":["x","z"]}"#) }
        #expect(issues.map(\.message) == [#"enum value "y" was removed"#])
    }

    @Test func detectsATightenedPattern() throws {
        let issues = try narrowings {
            setProperty(&$0, "a", #"{"type":"string","pattern":"^[0-9]{1,3}$","maxLength":10,"minLength":1}"#)
        }
        #expect(issues.map(\.path) == ["#/properties/a/pattern"])
    }

    @Test func detectsTightenedLimits() throws {
        let maxLength = try narrowings {
            setProperty(&$0, "a", #"{"type":"string","pattern":"^[0-9]+$","maxLength":9,"minLength":1}"#)
        }
        #expect(maxLength.map(\.message) == ["maxLength lowered from 10 to 9"])
        let minimum = try narrowings { setProperty(&$0, "b", #"{"type":["integer","null"],"minimum":1,"maximum":100}"#) }
        #expect(minimum.map(\.message) == ["minimum raised from 0 to 1"])
        let newLimit = try narrowings { setProperty(&$0, "e", #"{"type":"number","maximum":5}"#) }
        #expect(newLimit.map(\.message) == ["maximum 5 added"])
    }

    /// A `maxLength` added where there was none is a safety bound when it is at least the floor (docs/contract.md,
    /// "Limits"); below the floor it is a narrowing like any other.
    @Test func aGenerousMaxLengthMayBeAddedAsASafetyBound() throws {
        let floor = SchemaCompatibility.safetyMaxLengthFloor
        func withItemKey(_ schema: String) -> (inout JSONObject) -> Void {
            { o in
                var defs = o["$defs"]!.objectValue!
                defs["item"] = try! JSONValue.parse(#"{"type":"object","properties":{"k":\#(schema)}}"#)
                o["$defs"] = .object(defs)
            }
        }
        let generous = try narrowings(withItemKey(#"{"type":"string","maxLength":\#(floor)}"#))
        #expect(generous.isEmpty, "\(generous)")
        let tight = try narrowings(withItemKey(#"{"type":"string","maxLength":\#(floor - 1)}"#))
        #expect(tight.map(\.message) == ["maxLength \(floor - 1) added"])
        // Other new upper bounds stay narrowings whatever their size.
        let maxItems = try narrowings {
            setProperty(&$0, "d", ##"{"type":"array","items":{"$ref":"#/$defs/item"},"maxItems":1000}"##)
        }
        #expect(maxItems.map(\.message) == ["maxItems 1000 added"])
    }

    @Test func detectsANewRequiredField() throws {
        let issues = try narrowings { $0["required"] = ["a", "b"] }
        #expect(issues.map(\.message) == ["property 'b' became required"])
    }

    @Test func detectsClosedAdditionalProperties() throws {
        let issues = try narrowings { $0["additionalProperties"] = false }
        #expect(issues.map(\.path) == ["#/additionalProperties"])
    }

    @Test func followsReferences() throws {
        let issues = try narrowings { o in
            o["$defs"] = ["item": ["type": "object", "properties": ["k": ["type": "integer"]]]]
        }
        #expect(issues.map(\.path) == ["#/properties/d/items/properties/k/type"])
    }

    /// How an event enum is made tolerant within v1 (docs/contract.md, "Versioning"): the known values move into an
    /// `anyOf` branch next to a branch for values added later. That is a widening, and the checker must say so; an
    /// `anyOf` none of whose branches keeps every baseline value is still a narrowing.
    @Test func anEnumMadeTolerantWithAnyOfIsAWidening() throws {
        let tolerant = try narrowings {
            setProperty(&$0, "c", #"{"anyOf":[{"enum":["x","y","z"]},{"type":"string","pattern":"^[a-z]+$"}]}"#)
        }
        #expect(tolerant.isEmpty, "\(tolerant)")
        // Through a $ref, and with the known values in the second branch.
        let viaRef = try narrowings { o in
            setProperty(&o, "c", ##"{"anyOf":[{"type":"integer"},{"$ref":"#/$defs/known"}]}"##)
            var defs = o["$defs"]!.objectValue!
            defs["known"] = try! JSONValue.parse(#"{"enum":["z","y","x","w"]}"#)
            o["$defs"] = .object(defs)
        }
        #expect(viaRef.isEmpty, "\(viaRef)")
        let lost = try narrowings {
            setProperty(&$0, "c", #"{"anyOf":[{"enum":["x","y"]},{"type":"integer"}]}"#)
        }
        #expect(lost.map(\.path) == ["#/properties/c/anyOf"])
        // The rest of the node still counts: a type added next to the anyOf narrows.
        let typed = try narrowings {
            setProperty(&$0, "c", #"{"type":"integer","anyOf":[{"enum":["x","y","z"]},{"type":"string"}]}"#)
        }
        #expect(typed.map(\.path) == ["#/properties/c/type"])
        // oneOf is not taught: a value in two branches would fail it.
        let oneOf = try narrowings {
            setProperty(&$0, "c", #"{"oneOf":[{"enum":["x","y","z"]},{"type":"string"}]}"#)
        }
        #expect(oneOf.map(\.path) == ["#/properties/c/oneOf"])
    }

    /// A `not` that excludes only values the baseline never accepted (a tolerant status that still may not be final,
    /// an operation that is never the other provider's) is a widening; one that excludes a baseline value is not.
    @Test func aNotExcludingOnlyUnacceptedValuesIsAWidening() throws {
        let disjoint = try narrowings {
            setProperty(&$0, "c", #"{"anyOf":[{"enum":["x","y","z"]},{"type":"string"}],"not":{"enum":["w","v"]}}"#)
        }
        #expect(disjoint.isEmpty, "\(disjoint)")
        let overlapping = try narrowings {
            setProperty(&$0, "c", #"{"anyOf":[{"enum":["x","y","z"]},{"type":"string"}],"not":{"enum":["w","y"]}}"#)
        }
        #expect(overlapping.map(\.path) == ["#/properties/c/not"])
        // Only lists of values are understood: a `not` of a type or a pattern is reported.
        let notAType = try narrowings { setProperty(&$0, "c", #"{"enum":["x","y","z"],"not":{"type":"integer"}}"#) }
        #expect(notAType.map(\.path) == ["#/properties/c/not"])
        // Where the baseline does not list its values, any new `not` is reported.
        let unlisted = try narrowings { setProperty(&$0, "e", #"{"type":"number","not":{"const":3}}"#) }
        #expect(unlisted.map(\.path) == ["#/properties/e/not"])
    }

    /// With the same `if`, `then` and `else` are compared as subschemas; with a changed `if`, both are reported.
    @Test func thenAndElseUnderTheSameIfMayWiden() throws {
        let baseline = try JSONValue.parse("""
            {"properties":{"p":{"enum":["a","b"]},"o":{"enum":["x","y","z"]}},
             "if":{"properties":{"p":{"const":"a"}}},"then":{"properties":{"o":{"enum":["x","y"]}}},
             "else":{"properties":{"o":{"enum":["z"]}}}}
            """)
        func current(if condition: String = #"{"properties":{"p":{"const":"a"}}}"#, then: String, else otherwise: String)
            throws -> [CompatibilityIssue]
        {
            var o = baseline.objectValue!
            o["if"] = try JSONValue.parse(condition)
            o["then"] = try JSONValue.parse(then)
            o["else"] = try JSONValue.parse(otherwise)
            return SchemaCompatibility.narrowings(baseline: baseline, current: .object(o))
        }
        let wider = try current(then: #"{"properties":{"o":{"not":{"enum":["z"]}}}}"#,
                                else: #"{"properties":{"o":{"enum":["z","w"]}}}"#)
        #expect(wider.isEmpty, "\(wider)")
        let narrower = try current(then: #"{"properties":{"o":{"enum":["x"]}}}"#,
                                   else: #"{"properties":{"o":{"enum":["z"]}}}"#)
        #expect(narrower.map(\.path) == ["#/then/properties/o/enum"])
        let otherIf = try current(if: #"{"properties":{"p":{"const":"b"}}}"#,
                                  then: #"{"properties":{"o":{"enum":["x","y","z"]}}}"#,
                                  else: #"{"properties":{"o":{"enum":["z"]}}}"#)
        #expect(otherIf.map(\.path) == ["#/if", "#/then"])
    }

    @Test func detectsCompositionNarrowing() throws {
        let baseline = try JSONValue.parse(#"{"anyOf":[{"type":"string"},{"type":"integer"}]}"#)
        let fewer = try JSONValue.parse(#"{"anyOf":[{"type":"string"}]}"#)
        #expect(SchemaCompatibility.narrowings(baseline: baseline, current: fewer).map(\.path) == ["#/anyOf"])
        let more = try JSONValue.parse(#"{"anyOf":[{"type":"string"},{"type":"integer"},{"type":"null"}]}"#)
        #expect(SchemaCompatibility.narrowings(baseline: baseline, current: more).isEmpty)
        let allOf = try JSONValue.parse(#"{"anyOf":[{"type":"string"},{"type":"integer"}],"allOf":[{"minLength":2}]}"#)
        #expect(SchemaCompatibility.narrowings(baseline: baseline, current: allOf).map(\.path) == ["#/allOf"])
    }
}
