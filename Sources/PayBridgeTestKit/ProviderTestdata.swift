import Foundation

/// `shared/providers/testdata` (CI clones `shared/` beside the repository).
package let providerTestdata: String = {
    if let env = ProcessInfo.processInfo.environment["PAYBRIDGE_PROVIDER_TESTDATA"] { return env }
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    let candidates = [root.appendingPathComponent("../shared/providers/testdata").standardized.path,
                      root.appendingPathComponent("shared/providers/testdata").path,
                      // A copy in the repository, for clones without shared/ beside them (shared/ is authoritative).
                      root.appendingPathComponent("Tests/Fixtures/provider-testdata").path]
    return candidates.first { FileManager.default.fileExists(atPath: $0 + "/README.md") } ?? candidates[0]
}()
