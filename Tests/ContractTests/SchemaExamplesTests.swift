import PaymentVocabulary
import StrictJSON
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
                     OutcomeEvents.unresolvedType, PaymentMethodsQuery.type, PaymentMethodsReply.type] {
            #expect(ContractSchemas.validator(forType: type) != nil, "\(type)")
        }
        #expect(ContractSchemas.types.count == 14)
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

    /// The values an event enum lists: its `enum`, or, where it is tolerant (`anyOf: [{enum: known}, {later}]`,
    /// docs/contract.md "Versioning"), the `enum` of its branch of known values.
    static func knownValues(_ schema: JSONValue?) -> [String]? {
        if let values = schema?["enum"]?.arrayValue { return values.compactMap(\.stringValue) }
        for branch in schema?["anyOf"]?.arrayValue ?? [] {
            if let values = branch["enum"]?.arrayValue { return values.compactMap(\.stringValue) }
        }
        return nil
    }

    @Test(arguments: eventTypes)
    func enumsAgreeWithTheEventSchemas(_ type: String) throws {
        let schema = try #require(ContractSchemas.schema(forType: type))
        let defs = try #require(schema["$defs"])
        let statuses = try #require(Self.knownValues(defs["status"]))
        #expect(statuses == PaymentStatus.allCases.map(\.rawValue))
        let classes = try #require(Self.knownValues(defs["error"]?["properties"]?["class"]))
        #expect(classes == ErrorClass.allCases.map(\.rawValue))
        let providers = try #require(Self.knownValues(defs["data"]?["properties"]?["provider"]))
        #expect(providers == Provider.allCases.map(\.rawValue))
    }
}

/// The tolerant-reader rule (docs/contract.md, "Versioning"): within v1 new values may appear in event enums, so a
/// consumer that validates events with its copy of a v1 schema must accept them. Command schemas stay closed.
@Suite struct TolerantEventSchemasTests {
    static let eventTypes = [OutcomeEvents.responseType, OutcomeEvents.callbackType, OutcomeEvents.commandFailedType,
                             OutcomeEvents.unresolvedType]

    /// The first example of `type`, with `edit` applied to its `data`.
    static func example(_ type: String, _ edit: (inout JSONObject) -> Void) throws -> JSONValue {
        let schema = try #require(ContractSchemas.schema(forType: type))
        var event = try #require(schema["examples"]?.arrayValue?.first?.objectValue)
        var data = try #require(event["data"]?.objectValue)
        edit(&data)
        event["data"] = .object(data)
        return .object(event)
    }

    @Test(arguments: eventTypes)
    func eventSchemasAcceptValuesAddedLater(_ type: String) throws {
        let validator = try #require(ContractSchemas.validator(forType: type))
        let later = try Self.example(type) { data in
            data["status"] = "on_hold"
            data["provider"] = "thirdpay"
            data["operation"] = "refund"
            data["error"] = ["code": "SOMETHING_NEW", "message": "", "class": "rate_limited"]
            if type == OutcomeEvents.callbackType { data["confirmedBy"] = "webhook_v2" }
        }
        #expect(validator.validate(later).isEmpty, "\(validator.validate(later))")
        // Still checked: a value that is not a lower-case word is refused.
        let malformed = try Self.example(type) { $0["status"] = "Succeeded!" }
        #expect(!validator.validate(malformed).isEmpty)
    }

    @Test func anUnresolvedPaymentIsNeverFinal() throws {
        let validator = try #require(ContractSchemas.validator(forType: OutcomeEvents.unresolvedType))
        for status in ["succeeded", "failed", "cancelled"] {
            let event = try Self.example(OutcomeEvents.unresolvedType) { $0["status"] = .string(status) }
            #expect(!validator.validate(event).isEmpty, "\(status)")
        }
    }

    @Test func commandSchemasStayClosed() throws {
        let validator = try #require(ContractSchemas.validator(forType: PaymentCommandKind.amanpayStatus.type))
        let command = try JSONValue.parse(commandBody(
            .amanpayStatus, data: #"{"paymentId":"payment_812","paymentType":"refund"}"#))
        #expect(!validator.validate(command).isEmpty)
    }
}
