// Shared by every fuzz target (compiled into each target; see scripts/fuzz.sh).

/// Asserts a property of the code under test. A violated property is a finding: libFuzzer sees the crash, writes
/// the input to the findings directory and the run fails.
@inline(__always)
func fuzzCheck(
    _ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String, file: StaticString = #file,
    line: UInt = #line
) {
    if !condition() { fatalError("property violated: \(message())", file: file, line: line) }
}

/// The input as bytes (libFuzzer's buffer is only valid during the call).
func fuzzBytes(_ data: UnsafePointer<UInt8>?, _ size: Int) -> [UInt8] {
    guard let data, size > 0 else { return [] }
    return Array(UnsafeBufferPointer(start: data, count: size))
}
