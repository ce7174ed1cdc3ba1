import Testing

@testable import PayBridgeContract

@Suite struct SchemaExamplesTests {
    static let paths = ContractSchemas.paths

    @Test func everyCommandKindAndEventTypeHasASchema() {
        for kind in PaymentCommandKind.allCases {
            #expect(ContractSchemas.paths.contains(kind.schemaPath), "\(kind.schemaPath)")
            #expect(ContractSchemas.validator(forType: kind.type) != nil, "\(kind.type)")
        }
        for type in [OutcomeEvents.responseType, OutcomeEvents.callbackType, OutcomeEvents.commandFailedType,
                     OutcomeEvents.unresolvedType] {
            #expect(ContractSchemas.validator(forType: type) != nil, "\(type)")
        }
        #expect(ContractSchemas.types.count == 12)
    }

    @Test(arguments: paths)
    func schemaIsWellFormed(_ path: String) throws {
        let schema = try JSONValue.parse(#require(ContractSchemas.text(atPath: path)))
        #expect(schema["$schema"] == "https://json-schema.org/draft/2020-12/schema")
        #expect(schema["$id"]?.stringValue == "https://schemas.paybridge.example/" + path)
        #expect(schema["description"]?.stringValue?.isEmpty == false)
        #expect(schema["title"]?.stringValue?.isEmpty == false)
        _ = try JSONSchemaValidator(schema: schema)
        // The file name and the type const agree.
        let type = try #require(schema["properties"]?["type"]?["const"]?.stringValue)
        let name = path.split(separator: "/").last!.replacingOccurrences(of: ".schema.json", with: "")
        #expect(type == "paybridge." + name)
    }

    @Test(arguments: paths)
    func everyExampleValidates(_ path: String) throws {
        let schema = try JSONValue.parse(#require(ContractSchemas.text(atPath: path)))
        let validator = try JSONSchemaValidator(schema: schema)
        let examples = try #require(schema["examples"]?.arrayValue)
        #expect(!examples.isEmpty)
        for (k, example) in examples.enumerated() {
            let errors = validator.validate(example)
            #expect(errors.isEmpty, "example \(k) of \(path): \(errors)")
        }
    }

    @Test(arguments: paths.filter { $0.hasPrefix("commands/") })
    func everyCommandExampleDecodes(_ path: String) throws {
        let schema = try JSONValue.parse(#require(ContractSchemas.text(atPath: path)))
        for example in try #require(schema["examples"]?.arrayValue) {
            let kind = try #require(PaymentCommandKind(type: example["type"]?.stringValue ?? ""))
            let result = CommandDecoder().decode(example.serialized(), routingKey: kind.routingKey)
            let command = try result.get()
            #expect(command.kind == kind)
            #expect(command.data == example["data"])
        }
    }

    /// Event examples carry the ids the event-id rule gives them (the rule is also implemented in the generator
    /// that wrote them, so this cross-checks two implementations).
    @Test(arguments: paths.filter { $0.hasPrefix("events/") })
    func eventExampleIdsFollowTheRule(_ path: String) throws {
        let schema = try JSONValue.parse(#require(ContractSchemas.text(atPath: path)))
        for example in try #require(schema["examples"]?.arrayValue) {
            let d = try #require(example["data"])
            let id = EventID.make(
                type: example["type"]!.stringValue!, commandId: d["commandId"]?.stringValue,
                provider: d["provider"]!.stringValue!, operation: d["operation"]?.stringValue,
                paymentId: d["paymentId"]?.stringValue, providerPaymentId: d["providerPaymentId"]?.stringValue,
                status: d["status"]!.stringValue!, providerStatus: d["providerStatus"]?.stringValue,
                errorCode: d["error"]?["code"]?.stringValue, errorClass: d["error"]?["class"]?.stringValue,
                fact: Self.fact(type: example["type"]!.stringValue!, data: d))
            #expect(example["id"]?.stringValue == id)
        }
    }

    /// The `fact` OutcomeEvents gives an example's event: each callback notification is its own observation
    /// (OutcomeEvents.callbackFact), a reconciliation check's change is `reconcile:<check>`, an unresolved payment
    /// `unresolved`.
    static func fact(type: String, data d: JSONValue) -> String? {
        if type == OutcomeEvents.unresolvedType { return "unresolved" }
        if let check = d["reconciliation"]?["check"]?.numberValue { return "reconcile:\(check.text)" }
        return d["notificationId"]?.stringValue.map { "notification:\($0)" }
    }
}

@Suite struct SwiftTypesMatchSchemasTests {
    static let eventTypes = [OutcomeEvents.responseType, OutcomeEvents.callbackType, OutcomeEvents.commandFailedType]

    @Test(arguments: eventTypes)
    func enumsAgreeWithTheEventSchemas(_ type: String) throws {
        let schema = try #require(ContractSchemas.schema(forType: type))
        let defs = try #require(schema["$defs"])
        let statuses = try #require(defs["status"]?["enum"]?.arrayValue).compactMap(\.stringValue)
        #expect(statuses == PaymentStatus.allCases.map(\.rawValue))
        let classes = try #require(defs["error"]?["properties"]?["class"]?["enum"]?.arrayValue).compactMap(\.stringValue)
        #expect(classes == ErrorClass.allCases.map(\.rawValue))
        let providers = try #require(defs["data"]?["properties"]?["provider"]?["enum"]?.arrayValue)
            .compactMap(\.stringValue)
        #expect(providers == Provider.allCases.map(\.rawValue))
    }
}
