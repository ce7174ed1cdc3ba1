/// An ``ASCIIPattern`` compiled for a Thompson/Pike NFA simulation: a flat list of instructions run over the text
/// one byte at a time, every live thread in step.
///
/// Why not backtracking: a backtracker recurses (or keeps a stack) per character and can take exponential time;
/// a 50,000-character `datacontenttype` once exhausted the worker's stack. This simulation keeps at most one
/// thread per instruction, so a match costs O(text × instructions) time and O(instructions) memory, whatever the
/// text. `pattern` only asks *whether* a match exists (no captures, no match bounds), so greedy/lazy order and
/// ECMA-262's "an empty iteration ends the loop" rule cannot change the answer: the thread set explores every path
/// and an empty loop is cut because an instruction joins a step's thread set at most once.
struct PatternProgram: Sendable {
    enum Operation: UInt8, Sendable {
        /// Consume one byte in `set`, continue at the next instruction.
        case byte
        /// Continue at `x` and at `y` (an alternative or a loop).
        case split
        /// Continue at `x`.
        case jump
        /// Continue only at the start of the text (`^`).
        case assertStart
        /// Continue only at the end of the text (`$`).
        case assertEnd
        /// A match.
        case match
    }

    struct Instruction: Sendable {
        var operation: Operation
        var set = ASCIIPattern.ByteSet()
        var x: Int32 = 0
        var y: Int32 = 0
    }

    /// Counted repetition is compiled by copying, so `(a{1000}){1000}` would be large: beyond this many
    /// instructions the pattern is left to ICU (the schemas' own patterns need well under a hundred).
    static let maximumInstructions = 4096

    let instructions: [Instruction]
    /// Every path starts with `^`: threads are started at position 0 only and the run ends when none is left.
    let anchoredAtStart: Bool

    /// Compiles parsed alternatives; `nil` when the program would exceed ``maximumInstructions``.
    init?(_ alternatives: [[ASCIIPattern.Node]]) {
        var builder = Builder()
        guard builder.emit(.group(alternatives)), builder.append(Instruction(operation: .match)) else { return nil }
        instructions = builder.instructions
        anchoredAtStart = Self.startsAnchored(alternatives)
    }

    private static func startsAnchored(_ alternatives: [[ASCIIPattern.Node]]) -> Bool {
        alternatives.allSatisfy { sequence in
            switch sequence.first {
            case .start?: return true
            case .group(let inner)?: return startsAnchored(inner)
            default: return false
            }
        }
    }

    /// Whether the pattern matches anywhere in `text` (`pattern` is unanchored).
    func matches(_ text: UnsafeBufferPointer<UInt8>) -> Bool {
        let count = instructions.count
        // Per instruction: the step that last added it (so nothing is cleared between steps), two thread lists
        // and a work stack for following splits and jumps (each added instruction pushes at most two).
        return withUnsafeTemporaryAllocation(of: Int.self, capacity: 5 * count + 1) { memory in
            let base = memory.baseAddress!
            let addedAt = UnsafeMutableBufferPointer(start: base, count: count)
            addedAt.initialize(repeating: -1)
            var current = UnsafeMutableBufferPointer(start: base + count, count: count)
            var next = UnsafeMutableBufferPointer(start: base + 2 * count, count: count)
            let stack = UnsafeMutableBufferPointer(start: base + 3 * count, count: 2 * count + 1)
            return instructions.withUnsafeBufferPointer { program in
                let run = Run(program: program, text: text, addedAt: addedAt, stack: stack)
                var currentCount = 0
                var position = 0
                while true {
                    if position == 0 || !anchoredAtStart {
                        if run.add(0, at: position, to: current, count: &currentCount) { return true }
                    }
                    // No thread left and none will start (anchored), or the text is used up: no match.
                    if (currentCount == 0 && anchoredAtStart) || position == text.count { return false }
                    let byte = text[position]
                    var nextCount = 0
                    for k in 0..<currentCount {
                        let pc = current[k]
                        if program[pc].set.contains(byte),
                            run.add(pc + 1, at: position + 1, to: next, count: &nextCount)
                        {
                            return true
                        }
                    }
                    swap(&current, &next)
                    currentCount = nextCount
                    position += 1
                }
            }
        }
    }

    /// One simulation's working memory.
    private struct Run {
        let program: UnsafeBufferPointer<Instruction>
        let text: UnsafeBufferPointer<UInt8>
        let addedAt: UnsafeMutableBufferPointer<Int>
        let stack: UnsafeMutableBufferPointer<Int>

        /// Adds the thread at `pc` and everything reachable from it without consuming a byte to `list` (only
        /// `byte` instructions are kept: they wait for the next byte). Returns `true` when `match` is reachable.
        func add(_ pc: Int, at position: Int, to list: UnsafeMutableBufferPointer<Int>, count: inout Int) -> Bool {
            var depth = 0
            stack[0] = pc
            depth = 1
            while depth > 0 {
                depth -= 1
                let p = stack[depth]
                guard addedAt[p] != position else { continue }
                addedAt[p] = position
                let instruction = program[p]
                switch instruction.operation {
                case .byte:
                    list[count] = p
                    count += 1
                case .split:
                    stack[depth] = Int(instruction.y)
                    stack[depth + 1] = Int(instruction.x)
                    depth += 2
                case .jump:
                    stack[depth] = Int(instruction.x)
                    depth += 1
                case .assertStart:
                    if position == 0 {
                        stack[depth] = p + 1
                        depth += 1
                    }
                case .assertEnd:
                    if position == text.count {
                        stack[depth] = p + 1
                        depth += 1
                    }
                case .match:
                    return true
                }
            }
            return false
        }
    }

    /// Turns the parsed tree into instructions.
    private struct Builder {
        var instructions: [Instruction] = []
        /// Nodes emitted so far. An empty group emits no instruction, so repeats of it nested (`((){900}){900}`)
        /// would never reach ``maximumInstructions``: this bounds the work itself.
        var steps = 0
        static let maximumSteps = 16 * PatternProgram.maximumInstructions

        /// Appends one instruction; `false` once the program is too large.
        mutating func append(_ instruction: Instruction) -> Bool {
            guard instructions.count < PatternProgram.maximumInstructions else { return false }
            instructions.append(instruction)
            return true
        }

        var next: Int32 { Int32(instructions.count) }

        mutating func emit(_ node: ASCIIPattern.Node) -> Bool {
            steps += 1
            guard steps <= Self.maximumSteps else { return false }
            switch node {
            case .bytes(let set):
                return append(Instruction(operation: .byte, set: set))
            case .start:
                return append(Instruction(operation: .assertStart))
            case .end:
                return append(Instruction(operation: .assertEnd))
            case .group(let alternatives):
                return emit(alternatives)
            case .repeated(let inner, let min, let max):
                return emit(inner, min: min, max: max)
            }
        }

        /// `split L1, next; L1: a1; jump end; next: split L2, …; last alternative; end:`
        mutating func emit(_ alternatives: [[ASCIIPattern.Node]]) -> Bool {
            var jumpsToEnd: [Int] = []
            for (k, sequence) in alternatives.enumerated() {
                let isLast = k == alternatives.count - 1
                var split = -1
                if !isLast {
                    split = instructions.count
                    guard append(Instruction(operation: .split)) else { return false }
                    instructions[split].x = next
                }
                for node in sequence where !emit(node) { return false }
                if !isLast {
                    jumpsToEnd.append(instructions.count)
                    guard append(Instruction(operation: .jump)) else { return false }
                    instructions[split].y = next
                }
            }
            for jump in jumpsToEnd { instructions[jump].x = next }
            return true
        }

        /// `min` copies, then either a loop (`max == nil`) or `max - min` optional copies.
        mutating func emit(_ inner: ASCIIPattern.Node, min: Int, max: Int?) -> Bool {
            for _ in 0..<min where !emit(inner) { return false }
            guard let max else {
                // loop: split body, exit; body; jump loop; exit:
                let loop = instructions.count
                guard append(Instruction(operation: .split)) else { return false }
                instructions[loop].x = next
                guard emit(inner), append(Instruction(operation: .jump, x: Int32(loop))) else { return false }
                instructions[loop].y = next
                return true
            }
            var splits: [Int] = []
            for _ in min..<max {
                splits.append(instructions.count)
                guard append(Instruction(operation: .split)) else { return false }
                instructions[splits[splits.count - 1]].x = next
                guard emit(inner) else { return false }
            }
            for split in splits { instructions[split].y = next }
            return true
        }
    }
}
