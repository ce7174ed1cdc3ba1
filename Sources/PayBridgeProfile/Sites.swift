import CAllocationCounter
import Foundation

/// `PROFILE_SITES=<row>` (e.g. `2`, `5a`): during that row's allocation pass every allocation's call stack is
/// recorded, and the profiler prints the call sites that allocate, per operation, most first. Symbols come from
/// `llvm-symbolizer` and `swift-demangle` on the `PATH` (the Swift toolchain's; `make bench-profile` puts it first).
enum SiteRecorder {
    static let target = ProcessInfo.processInfo.environment["PROFILE_SITES"]
    /// Frames shown per site, after the allocator's own.
    static let framesShown = Int(ProcessInfo.processInfo.environment["PROFILE_SITE_FRAMES"] ?? "") ?? 4

    static func wants(_ row: String) -> Bool { target == row }

    static func start(_ scope: Scope) { pba_sites_start(scope == .process ? 1 : 0) }

    /// Stops recording and prints the sites of `operations` operations of `row`.
    static func stop(row: String, operations: Int) {
        let count = pba_sites_stop()
        var stacks: [(frames: [UInt], size: Int)] = []
        var frames = [UnsafeMutableRawPointer?](repeating: nil, count: Int(PBA_SITE_DEPTH))
        for index in 0..<count {
            var size = 0
            let depth = Int(pba_site_frames(index, &frames, &size))
            stacks.append((frames[0..<depth].map { UInt(bitPattern: $0) }, size))
        }
        let names = symbolize(Set(stacks.map(\.frames).joined()))
        var sites: [String: (hits: Int, bytes: Int)] = [:]
        for stack in stacks {
            let shown = stack.frames.compactMap { names[$0] }.drop(while: isAllocator).prefix(framesShown)
            sites[shown.joined(separator: " <- "), default: (0, 0)].hits += 1
            sites[shown.joined(separator: " <- "), default: (0, 0)].bytes += stack.size
        }
        print("\nallocation sites of row \(row): \(count) allocations in \(operations) operations; per operation "
              + "(allocations, bytes):")
        for (site, figures) in sites.sorted(by: { $0.value.hits > $1.value.hits }).prefix(40) {
            let perOperation = Double(operations)
            print(String(format: "%8.2f %8.0f B  ", Double(figures.hits) / perOperation,
                         Double(figures.bytes) / perOperation) + site)
        }
    }

    /// The counter's and the allocators' own frames, skipped to reach the code that asked for memory.
    private static func isAllocator(_ name: String) -> Bool {
        let allocators = ["record_site", "allocated", "malloc", "calloc", "realloc", "memalign", "aligned_alloc",
                          "swift_slowAlloc", "swift_allocObject", "swift::swift_slowAlloc", "swift_allocBox",
                          "swift_allocEmptyBox", "backtrace", "??"]
        return allocators.contains { name == $0 || name.hasPrefix($0 + "(") || name.hasPrefix("_" + $0) }
            || name.hasPrefix("swift_") && name.contains("Alloc")
    }

    /// Function names of return addresses (the call instruction before each).
    private static func symbolize(_ addresses: Set<UInt>) -> [UInt: String] {
        var lines: [String] = []
        var order: [UInt] = []
        for address in addresses {
            var base: UInt = 0
            guard let file = pba_module_of(UnsafeRawPointer(bitPattern: address), &base) else { continue }
            let offset = address - 1 - base
            lines.append("CODE \(String(cString: file)) 0x\(String(offset, radix: 16))")
            order.append(address)
        }
        let symbolized = run(["llvm-symbolizer", "--inlining=false", "--no-demangle"],
                             input: lines.joined(separator: "\n"))
        // Two lines per address (function, file:line) and a blank line.
        let functions = symbolized.split(separator: "\n", omittingEmptySubsequences: false)
            .split(separator: "", omittingEmptySubsequences: true).map { String($0.first ?? "??") }
        guard functions.count == order.count else { return [:] }
        let demangled = run(["swift-demangle", "--simplified"], input: functions.joined(separator: "\n"))
            .split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let shown = demangled.count >= functions.count ? Array(demangled.prefix(functions.count)) : functions
        return Dictionary(uniqueKeysWithValues: zip(order, shown.map(shorten)))
    }

    /// A demangled name without its argument list and generic clutter, for one line per site.
    private static func shorten(_ name: String) -> String {
        var text = name
        if let open = text.firstIndex(of: "(") { text = String(text[..<open]) }
        return text.replacingOccurrences(of: "specialized ", with: "").replacingOccurrences(of: "merged ", with: "")
    }

    private static func run(_ command: [String], input: String) -> String {
        let inputFile = FileManager.default.temporaryDirectory.appendingPathComponent("paybridge-profile-\(getpid())")
        defer { try? FileManager.default.removeItem(at: inputFile) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = command
        let output = Pipe()
        do {
            try Data(input.utf8).write(to: inputFile)
            process.standardInput = try FileHandle(forReadingFrom: inputFile)
            process.standardOutput = output
            try process.run()
        } catch {
            fail("cannot run \(command[0]): \(error)")
        }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}
