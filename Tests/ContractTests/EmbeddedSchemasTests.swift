import Foundation
import Testing

@testable import PayBridgeContract

/// `Sources/PayBridgeContract/EmbeddedSchemas.swift` is generated from `schemas/`; this fails when someone edits a
/// schema and forgets `python3 scripts/embed-schemas.py`.
@Suite struct EmbeddedSchemasTests {
    @Test func embeddedSchemasMatchTheFilesInSchemas() throws {
        let onDisk = Repo.schemaFiles(under: Repo.schemas)
        #expect(!onDisk.isEmpty, "no schemas found under \(Repo.schemas.path)")
        #expect(
            ContractSchemas.paths == onDisk,
            "EmbeddedSchemas.swift is out of date (file list): run python3 scripts/embed-schemas.py")
        for path in onDisk {
            let text = try Repo.read(Repo.schemas.appendingPathComponent(path))
            #expect(
                ContractSchemas.text(atPath: path) == text,
                "EmbeddedSchemas.swift is out of date for \(path): run python3 scripts/embed-schemas.py")
        }
    }

    @Test func asyncAPIDocumentReferencesEverySchema() throws {
        let text = try Repo.read(Repo.schemas.appendingPathComponent("asyncapi.yaml"))
        #expect(text.hasPrefix("asyncapi: 3.0.0") || text.contains("\nasyncapi: 3.0.0"))
        for path in ContractSchemas.paths {
            #expect(text.contains("./" + path), "asyncapi.yaml does not reference \(path)")
        }
        for name in [
            Topology.commandsExchange, Topology.outcomesExchange, Topology.deadLetterQueue,
            Topology.commandQueue(.amanpay), Topology.commandQueue(.firstpay), Topology.retryReturnExchange,
            Topology.deadLetterExchange, Topology.Headers.attempt, Topology.historyStream,
        ] {
            #expect(text.contains(name), "asyncapi.yaml does not mention \(name)")
        }
    }

    /// PayBridge publishes every event (and retry, check, dead letter) `mandatory` (OutcomePublisher): the document's
    /// AMQP operation bindings say so, and none says otherwise.
    @Test func asyncAPIBindingsSayPublishesAreMandatory() throws {
        let text = try Repo.read(Repo.schemas.appendingPathComponent("asyncapi.yaml"))
        let bindings = text.split(separator: "\n").filter { $0.contains("mandatory:") }
        #expect(bindings.count >= 3)
        #expect(bindings.allSatisfy { $0.contains("mandatory: true") }, "\(bindings)")
    }
}
