import Foundation
@testable import PayBridge
import PayBridgeContract
import StrictJSON
import Testing

/// The examples readers copy from are what PayBridge emits: every event example in `schemas/events/` and every
/// event shown in README.md and docs/ is produced by the worker's own code (``EventExamples``). A test fails when
/// one drifts; `make examples` rewrites the schemas' examples from the code.
@Suite struct EventExamplesTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static func generated() throws -> [String: [JSONValue]] {
        var bySchema: [String: [JSONValue]] = [:]
        for example in try EventExamples.all() { bySchema[example.schema, default: []].append(example.event.jsonValue) }
        return bySchema
    }

    @Test func everyEventSchemasExamplesAreWhatTheCodeEmits() throws {
        let generated = try Self.generated()
        if let path = ProcessInfo.processInfo.environment["PAYBRIDGE_WRITE_EXAMPLES"] {
            // `make examples`: scripts/write-event-examples.py puts these into the schema files.
            let object = JSONValue.object(JSONObject(generated.keys.sorted().map {
                JSONMember($0, .array(generated[$0]!)) }))
            try Data(object.serialized()).write(to: URL(fileURLWithPath: path))
        }
        #expect(Set(generated.keys) == Set(["events/payment.response.v1.schema.json",
                                            "events/payment.callback.v1.schema.json",
                                            "events/command.failed.v1.schema.json",
                                            "events/payment.unresolved.v1.schema.json"]))
        for (schema, examples) in generated.sorted(by: { $0.key < $1.key }) {
            let text = try Data(contentsOf: Self.root.appendingPathComponent("schemas/\(schema)"))
            let file = try JSONValue.parse(Array(text))
            let committed = file["examples"]?.arrayElements ?? []
            #expect(committed.count == examples.count, "\(schema): run `make examples`")
            for (index, (have, want)) in zip(committed, examples).enumerated() {
                #expect(have == want, "\(schema) example \(index) drifted from the code: run `make examples`")
            }
        }
    }

    @Test func everyGeneratedExampleValidatesAndNamesNoFullAccountNumber() throws {
        for example in try EventExamples.all() {
            #expect(OutcomeEvents.validate(example.event) == [], "\(example.title)")
            let text = String(decoding: example.event.serialized(), as: UTF8.self)
            #expect(!text.contains("185927571757184") && !text.contains("01712345678"),
                    "masked by default: \(example.title)")
        }
    }

    /// Each ```json block in README.md and docs/*.md that is an outcome event must be one of the generated ones.
    @Test func theDocsShowOnlyEventsTheCodeEmits() throws {
        let generated = Set(try EventExamples.all().map { $0.event.jsonValue.compactText })
        let eventTypes = [OutcomeEvents.responseType, OutcomeEvents.callbackType, OutcomeEvents.commandFailedType,
                          OutcomeEvents.unresolvedType]
        let docs = ["README.md"] + (try FileManager.default.contentsOfDirectory(
            atPath: Self.root.appendingPathComponent("docs").path).filter { $0.hasSuffix(".md") }.map { "docs/\($0)" })
        var checked = 0
        for doc in docs {
            let text = try String(contentsOf: Self.root.appendingPathComponent(doc), encoding: .utf8)
            for block in text.components(separatedBy: "```json").dropFirst() {
                guard let body = block.components(separatedBy: "```").first,
                    let json = try? JSONValue.parse(Array(body.utf8)),
                    let type = json["type"]?.stringValue, eventTypes.contains(type)
                else { continue }
                checked += 1
                #expect(generated.contains(json.compactText), "\(doc): an event example the code does not emit")
            }
        }
        _ = checked
    }
}
