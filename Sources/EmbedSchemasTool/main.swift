// The tool behind the EmbedSchemas build-tool plugin (Plugins/EmbedSchemas): writes the Swift source that compiles
// the contract's JSON Schemas into PayBridgeContract (`enum EmbeddedSchemas`), from `schemas/**/*.schema.json`.
//
//     EmbedSchemasTool <schemas-dir> <output.swift> [<path relative to schemas-dir>...]
//
// Every `*.schema.json` under the directory is embedded, sorted by path, each text byte for byte in a raw string
// literal; the output is written only when its text changes. The plugin also passes the paths it found (so that
// SwiftPM re-runs the command when the set changes); when given, they must be exactly the files found.
// scripts/fuzz.sh runs it without them.
import Foundation

struct Failure: Error, CustomStringConvertible {
    let description: String
}

/// `*.schema.json` files under `dir`, as paths relative to it with `/`, sorted.
func schemaFiles(under dir: URL) throws -> [String] {
    guard let walk = FileManager.default.enumerator(atPath: dir.path) else {
        throw Failure(description: "cannot read \(dir.path)")
    }
    return walk.compactMap { $0 as? String }.filter { $0.hasSuffix(".schema.json") }.sorted()
}

/// A raw multi-line string literal whose delimiter cannot occur in the text. The newline before the closing
/// delimiter is not part of the value, hence the extra one.
func literal(_ text: String) -> String {
    var hashes = "#"
    while text.contains("\"\"\"" + hashes) || text.contains("\\" + hashes) { hashes += "#" }
    return hashes + "\"\"\"\n" + text + "\n\"\"\"" + hashes
}

func generate(schemas dir: URL, files: [String]) throws -> String {
    var parts = [
        "// GENERATED at build time by the EmbedSchemas plugin (Plugins/EmbedSchemas) from schemas/ -- not in git.",
        "",
        "/// The JSON Schema files under `schemas/`, keyed by their path relative to `schemas/`.",
        "enum EmbeddedSchemas {",
        "    static let files: [(path: String, text: String)] = [",
    ]
    let pathCharacters = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/")
    for path in files {
        guard path.allSatisfy(pathCharacters.contains) else {
            throw Failure(description: "\(path): only letters, digits and . _ - / are supported in schema paths")
        }
        let bytes = try Data(contentsOf: dir.appendingPathComponent(path))
        // A multi-line literal turns CR LF into LF, and the text must be UTF-8: either would change the bytes.
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw Failure(description: "\(path): not UTF-8")
        }
        guard !bytes.contains(UInt8(ascii: "\r")) else {
            throw Failure(description: "\(path): carriage returns are not supported")
        }
        parts += ["        (", "            \"\(path)\",", literal(text), "        ),"]
    }
    parts += ["    ]", "}"]
    return parts.joined(separator: "\n") + "\n"
}

let arguments = CommandLine.arguments.dropFirst()
guard arguments.count >= 2 else {
    FileHandle.standardError.write(Data("usage: EmbedSchemasTool <schemas-dir> <output.swift> [<path>...]\n".utf8))
    exit(2)
}
let schemas = URL(fileURLWithPath: arguments[arguments.startIndex])
let output = URL(fileURLWithPath: arguments[arguments.startIndex + 1])
let expected = Array(arguments.dropFirst(2))
do {
    let files = try schemaFiles(under: schemas)
    guard !files.isEmpty else { throw Failure(description: "no *.schema.json files under \(schemas.path)") }
    if !expected.isEmpty && expected.sorted() != files {
        throw Failure(description: """
            the plugin listed \(expected.sorted()) but \(schemas.path) holds \(files): schemas were added or \
            removed during the build; build again
            """)
    }
    // Unchanged text is not rewritten, so that nothing recompiles when the command re-runs for nothing (after
    // `swift test --skip-build`, whose build plan leaves plugin commands out, or a schema saved unchanged).
    let text = Data(try generate(schemas: schemas, files: files).utf8)
    if (try? Data(contentsOf: output)) != text {
        try text.write(to: output, options: .atomic)
    }
} catch {
    FileHandle.standardError.write(Data("EmbedSchemasTool: error: \(error)\n".utf8))
    exit(1)
}
