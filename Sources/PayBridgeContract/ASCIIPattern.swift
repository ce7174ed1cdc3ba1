/// A JSON Schema `pattern` matched without ICU, for the regular-expression subset our schemas use, on ASCII text.
///
/// Every command carries a few patterned fields (amount, currency, method), and `NSRegularExpression` costs more
/// per match than the rest of the schema walk together. This is a small matcher over bytes: the pattern is compiled
/// to a ``PatternProgram`` and simulated as an NFA, in time linear in the text and constant stack.
///
/// Supported: literals, `.`, `^`, `$`, character classes with ranges and negation, `\d \w \s \D \W \S`, escaped
/// punctuation, groups `(…)` and `(?:…)`, alternation `|`, and the greedy quantifiers `* + ? {n} {n,} {n,m}`.
/// The semantics are ECMA-262's (what JSON Schema specifies): `$` matches only at the end of the text (ICU's also
/// matches before a final line break) and `.` matches anything but `\n` and `\r`. Matching is unanchored, as
/// `pattern` requires. ``init(_:)`` returns `nil` for anything else (lookarounds, lazy quantifiers,
/// backreferences, non-ASCII patterns…), and ``matches(_:)`` returns `nil` for text that is not ASCII; the
/// validator uses `NSRegularExpression` in both cases.
struct ASCIIPattern: Sendable {
    /// A set of bytes (a literal, a class, `.`).
    struct ByteSet: Sendable {
        var bits: (UInt64, UInt64) = (0, 0)

        func contains(_ byte: UInt8) -> Bool {
            byte < 64 ? bits.0 & (1 << UInt64(byte)) != 0 : byte < 128 && bits.1 & (1 << UInt64(byte - 64)) != 0
        }
        mutating func insert(_ byte: UInt8) {
            if byte < 64 { bits.0 |= 1 << UInt64(byte) } else if byte < 128 { bits.1 |= 1 << UInt64(byte - 64) }
        }
        mutating func insert(_ range: ClosedRange<UInt8>) { for b in range { insert(b) } }
        mutating func formUnion(_ other: ByteSet) {
            bits.0 |= other.bits.0
            bits.1 |= other.bits.1
        }
        var inverted: ByteSet { ByteSet(bits: (~bits.0, ~bits.1)) }
        /// The byte, when the set holds exactly one (an escaped literal such as `\.`).
        var onlyMember: UInt8? {
            guard bits.0.nonzeroBitCount + bits.1.nonzeroBitCount == 1 else { return nil }
            return bits.0 != 0 ? UInt8(bits.0.trailingZeroBitCount) : UInt8(64 + bits.1.trailingZeroBitCount)
        }

        static func of(_ bytes: String) -> ByteSet {
            var set = ByteSet()
            for b in bytes.utf8 { set.insert(b) }
            return set
        }
        static let digits: ByteSet = { var s = ByteSet(); s.insert(UInt8(ascii: "0")...UInt8(ascii: "9")); return s }()
        static let word: ByteSet = {
            var s = digits
            s.insert(UInt8(ascii: "a")...UInt8(ascii: "z"))
            s.insert(UInt8(ascii: "A")...UInt8(ascii: "Z"))
            s.insert(UInt8(ascii: "_"))
            return s
        }()
        static let space: ByteSet = of(" \t\n\u{0B}\u{0C}\r")
        static let anyButLineBreak: ByteSet = ByteSet.of("\n\r").inverted
    }

    indirect enum Node: Sendable {
        case bytes(ByteSet)
        case start
        case end
        /// Alternatives, each a sequence.
        case group([[Node]])
        case repeated(Node, min: Int, max: Int?)
    }

    private let program: PatternProgram

    /// Parses `pattern`; `nil` when it uses anything outside the supported subset.
    init?(_ pattern: String) {
        var parser = Parser(bytes: Array(pattern.utf8))
        guard let alternatives = parser.parseAlternatives(), parser.position == parser.bytes.count,
            let program = PatternProgram(alternatives)
        else { return nil }
        self.program = program
    }

    /// Whether `text` contains a match; `nil` when the text is not ASCII (the caller decides another way).
    ///
    /// Linear in the text's length with a constant, small amount of memory (see ``PatternProgram``): no text can
    /// exhaust the stack or take super-linear time.
    func matches(_ text: String) -> Bool? {
        var utf8 = text
        return utf8.withUTF8 { buffer in
            guard !buffer.contains(where: { $0 >= 0x80 }) else { return nil }
            return program.matches(buffer)
        }
    }

    private struct Parser {
        /// Groups nested deeper are left to ICU (parsing and compiling recurse once per level).
        static let maximumNesting = 32

        let bytes: [UInt8]
        var position = 0
        var nesting = 0

        var current: UInt8? { position < bytes.count ? bytes[position] : nil }

        mutating func parseAlternatives() -> [[Node]]? {
            var alternatives: [[Node]] = []
            var sequence: [Node] = []
            while let c = current, c != UInt8(ascii: ")") {
                if c == UInt8(ascii: "|") {
                    position += 1
                    alternatives.append(sequence)
                    sequence = []
                    continue
                }
                guard let atom = parseAtom() else { return nil }
                guard let quantified = parseQuantifier(atom) else { return nil }
                sequence.append(quantified)
            }
            alternatives.append(sequence)
            return alternatives
        }

        mutating func parseAtom() -> Node? {
            guard let c = current, c < 0x80 else { return nil }
            position += 1
            switch c {
            case UInt8(ascii: "^"): return .start
            case UInt8(ascii: "$"): return .end
            case UInt8(ascii: "."): return .bytes(.anyButLineBreak)
            case UInt8(ascii: "("):
                if current == UInt8(ascii: "?") {
                    guard position + 1 < bytes.count, bytes[position + 1] == UInt8(ascii: ":") else { return nil }
                    position += 2
                }
                nesting += 1
                defer { nesting -= 1 }
                guard nesting <= Self.maximumNesting, let inner = parseAlternatives(), current == UInt8(ascii: ")")
                else { return nil }
                position += 1
                return .group(inner)
            case UInt8(ascii: "["): return parseClass().map(Node.bytes)
            case UInt8(ascii: "\\"): return parseEscape().map(Node.bytes)
            case UInt8(ascii: ")"), UInt8(ascii: "]"), UInt8(ascii: "{"), UInt8(ascii: "}"), UInt8(ascii: "*"),
                UInt8(ascii: "+"), UInt8(ascii: "?"):
                return nil  // a quantifier with nothing to repeat, or a stray bracket: leave it to ICU
            default:
                var set = ByteSet()
                set.insert(c)
                return .bytes(set)
            }
        }

        /// After a `\`: a class escape or escaped punctuation.
        mutating func parseEscape() -> ByteSet? {
            guard let c = current else { return nil }
            position += 1
            switch c {
            case UInt8(ascii: "d"): return .digits
            case UInt8(ascii: "D"): return ByteSet.digits.inverted
            case UInt8(ascii: "w"): return .word
            case UInt8(ascii: "W"): return ByteSet.word.inverted
            case UInt8(ascii: "s"): return .space
            case UInt8(ascii: "S"): return ByteSet.space.inverted
            case UInt8(ascii: "t"): return .of("\t")
            case UInt8(ascii: "n"): return .of("\n")
            case UInt8(ascii: "r"): return .of("\r")
            default:
                // Only punctuation escapes to itself everywhere; letters and digits are special or backreferences.
                guard c < 0x80, !ByteSet.word.contains(c) else { return nil }
                var set = ByteSet()
                set.insert(c)
                return set
            }
        }

        /// After a `[`: members up to the closing `]`.
        mutating func parseClass() -> ByteSet? {
            var set = ByteSet()
            let negated = current == UInt8(ascii: "^")
            if negated { position += 1 }
            // `[]` is empty in ECMA-262 but starts a class containing `]` in ICU; nested and POSIX classes and
            // ICU's set operations (`&&`, `--`) do not exist in ECMA-262: all left to ICU.
            guard current != UInt8(ascii: "]") else { return nil }
            let first = position
            while let c = current, c != UInt8(ascii: "]") {
                guard c < 0x80, c != UInt8(ascii: "[") else { return nil }
                let next = position + 1 < bytes.count ? bytes[position + 1] : nil
                // A literal `-` only first or last (`\w-x` is a range error or set operation in ICU, a literal in
                // ECMA-262): elsewhere left to ICU.
                if c == UInt8(ascii: "-"), position != first, next != UInt8(ascii: "]") { return nil }
                if (c == UInt8(ascii: "&") || c == UInt8(ascii: "-")) && next == c { return nil }
                position += 1
                var low: UInt8 = c
                if c == UInt8(ascii: "\\") {
                    guard let escaped = parseEscape() else { return nil }
                    guard let single = escaped.onlyMember else {
                        set.formUnion(escaped)  // \d, \w, \s… are not range ends
                        continue
                    }
                    low = single
                }
                if current == UInt8(ascii: "-"), position + 1 < bytes.count, bytes[position + 1] != UInt8(ascii: "]") {
                    position += 1
                    // ECMA-262 ranges may end in `[`, `-` or `&`; ICU reads a nested set or the `--`/`&&` operators
                    // there. Left to ICU, like those characters anywhere else in a class.
                    guard var high = current, high < 0x80,
                        high != UInt8(ascii: "["), high != UInt8(ascii: "-"), high != UInt8(ascii: "&")
                    else { return nil }
                    position += 1
                    if high == UInt8(ascii: "\\") {
                        guard let escaped = parseEscape() else { return nil }
                        guard let single = escaped.onlyMember else { return nil }
                        high = single
                    }
                    guard low <= high else { return nil }
                    set.insert(low...high)
                } else {
                    set.insert(low)
                }
            }
            guard current == UInt8(ascii: "]") else { return nil }
            position += 1
            return negated ? set.inverted : set
        }

        mutating func parseQuantifier(_ atom: Node) -> Node? {
            let bounds: (Int, Int?)
            switch current {
            case UInt8(ascii: "*"): bounds = (0, nil)
            case UInt8(ascii: "+"): bounds = (1, nil)
            case UInt8(ascii: "?"): bounds = (0, 1)
            case UInt8(ascii: "{"):
                let start = position
                position += 1
                guard let min = parseNumber() else {
                    position = start
                    return nil
                }
                var max: Int? = min
                if current == UInt8(ascii: ",") {
                    position += 1
                    max = current == UInt8(ascii: "}") ? nil : parseNumber()
                    if max == nil, current != UInt8(ascii: "}") { return nil }
                }
                guard current == UInt8(ascii: "}"), max.map({ min <= $0 }) ?? true else { return nil }
                bounds = (min, max)
            default: return atom
            }
            position += 1
            // A lazy (`*?`) or possessive (`*+`) form, or a quantified anchor: not in the subset.
            if current == UInt8(ascii: "?") || current == UInt8(ascii: "+") { return nil }
            switch atom {
            case .start, .end: return nil
            default: return .repeated(atom, min: bounds.0, max: bounds.1)
            }
        }

        mutating func parseNumber() -> Int? {
            var value = 0
            var digits = 0
            while let c = current, c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9"), digits < 4 {
                value = value * 10 + Int(c - UInt8(ascii: "0"))
                digits += 1
                position += 1
            }
            return digits > 0 && !(current.map { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") } ?? false)
                ? value : nil
        }
    }
}
