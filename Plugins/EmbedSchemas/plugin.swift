import Foundation
import PackagePlugin

/// Compiles the contract's JSON Schemas into the target it is applied to (PayBridgeContract): at build time,
/// `EmbedSchemasTool` turns every `schemas/**/*.schema.json` of the package into `EmbeddedSchemas.swift` in the
/// plugin's work directory (under .build, never in the source tree). `schemas/` stays the only copy: the files are
/// the command's inputs, so editing, adding or removing a schema rebuilds the module.
@main
struct EmbedSchemas: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: any Target) async throws -> [Command] {
        let schemas = context.package.directoryURL.appending(path: "schemas", directoryHint: .isDirectory)
        guard let walk = FileManager.default.enumerator(atPath: schemas.path) else {
            throw PluginError(description: "EmbedSchemas: cannot read \(schemas.path)")
        }
        let files = walk.compactMap { $0 as? String }.filter { $0.hasSuffix(".schema.json") }.sorted()
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedSchemas.swift")
        return [
            .buildCommand(
                displayName: "Embedding the JSON Schemas into \(target.name)",
                executable: try context.tool(named: "EmbedSchemasTool").url,
                // The paths too: the command line changes, and so the command re-runs, when a schema is added or
                // removed (the tool checks them against what it finds).
                arguments: [schemas.path, output.path] + files,
                inputFiles: files.map { schemas.appending(path: $0) },
                outputFiles: [output]
            )
        ]
    }
}

struct PluginError: Error, CustomStringConvertible {
    let description: String
}
