#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Random 64-bit words for trace and span ids, from the operating system's generator 64 at a time.
///
/// `SystemRandomNumberGenerator` makes one `getrandom` system call per word, and a traced command draws four or five
/// (a new trace's id and span id, then each child span's id): about 2 % of the worker's CPU. The words are the same
/// kernel randomness, only fetched in blocks; they are ids, never keys or nonces.
public struct RandomWords: RandomNumberGenerator, Sendable {
    private struct Block {
        var words = [UInt64](repeating: 0, count: 64)
        var next = 64
    }
    private static let block = Mutex(Block())

    public init() {}

    public mutating func next() -> UInt64 {
        Self.block.withLock { block in
            if block.next == block.words.count {
                Self.refill(&block.words)
                block.next = 0
            }
            defer { block.next += 1 }
            return block.words[block.next]
        }
    }

    /// One `getrandom` call for the whole block (glibc's `arc4random_buf`, since 2.36, reads the kernel's
    /// generator directly; it never fails).
    private static func refill(_ words: inout [UInt64]) {
        words.withUnsafeMutableBytes { arc4random_buf($0.baseAddress!, $0.count) }
    }
}
