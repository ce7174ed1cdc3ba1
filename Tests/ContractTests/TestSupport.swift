import Foundation
import StrictJSON
import Testing

@testable import PayBridgeContract

/// Repository paths for tests that compare with files in the source tree.
enum Repo {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let schemas = root.appendingPathComponent("schemas")
    static let baseline = root.appendingPathComponent("Tests/ContractBaseline")

    /// `*.schema.json` files under `dir`, as paths relative to it, sorted.
    static func schemaFiles(under dir: URL) -> [String] {
        guard let e = FileManager.default.enumerator(atPath: dir.path) else { return [] }
        return e.compactMap { $0 as? String }.filter { $0.hasSuffix(".schema.json") }.sorted()
    }

    static func read(_ url: URL) throws -> String {
        String(decoding: try Data(contentsOf: url), as: UTF8.self)
    }
}

func json(_ text: String) throws -> JSONValue { try JSONValue.parse(text) }

/// A valid command envelope around `data`.
func commandBody(
    _ kind: PaymentCommandKind, id: String = "cmd-1", data: String, extra: String = ""
) -> [UInt8] {
    Array(
        """
        {"specversion":"1.0","id":"\(id)","type":"\(kind.type)","source":"/tests","time":"2026-11-21T06:00:00Z",\
        "datacontenttype":"application/json"\(extra),"data":\(data)}
        """.utf8)
}
