import Foundation
import Testing

@testable import PayBridgeContract

/// The schemas in the module are `schemas/` itself: the EmbedSchemas build-tool plugin generates
/// `EmbeddedSchemas.swift` from `schemas/**/*.schema.json` on every build that needs it (nothing generated is in
/// git). This checks the plugin did its job: the embedded set is exactly the files in `schemas/` (none missing, none
/// extra, none stale), each byte for byte.
@Suite struct EmbeddedSchemasTests {
    @Test func embeddedSchemasAreTheFilesInSchemasByteForByte() throws {
        let onDisk = Repo.schemaFiles(under: Repo.schemas)
        #expect(!onDisk.isEmpty, "no schemas found under \(Repo.schemas.path)")
        #expect(
            ContractSchemas.paths == onDisk, "the embedded schemas are not the files in schemas/ (EmbedSchemas plugin)")
        for path in onDisk {
            let bytes = try Data(contentsOf: Repo.schemas.appendingPathComponent(path))
            // Compared as bytes: String's == would call canonically equivalent texts equal. A Bool, so that a
            // failure prints the path, not two 100 KB byte arrays.
            let same = ContractSchemas.text(atPath: path).map { Array($0.utf8) == Array(bytes) } ?? false
            #expect(same, "the embedded \(path) is not the file in schemas/ (EmbedSchemas plugin)")
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
