/// Bounds both JSON parsers enforce (commands in `PayBridgeContract`, provider bodies and callbacks in
/// `ProviderCore`), so no input can exhaust the stack, the memory or the time of a worker or the callback server.
///
/// A value over a bound is an error, never truncated or repaired. ``standard`` is what both parsers use unless
/// told otherwise.
public struct JSONLimits: Sendable, Equatable {
    /// Objects and arrays nested deeper than this are refused. The parsers, the serializers, the schema walk,
    /// semantic equality and the FirstPay canonicalizer recurse once per level, so this bounds their stack use.
    /// Commands nest four levels.
    public var maximumDepth: Int
    /// Longest number literal, in characters (sign, digits, `.`, exponent). Amounts are at most 16.
    public var maximumNumberLength: Int
    /// Longest string, in UTF-8 bytes after unescaping (keys included).
    public var maximumStringBytes: Int
    /// Most members of one object, or elements of one array.
    public var maximumContainerCount: Int

    /// - Parameters: see the properties.
    public init(maximumDepth: Int, maximumNumberLength: Int, maximumStringBytes: Int, maximumContainerCount: Int) {
        self.maximumDepth = maximumDepth
        self.maximumNumberLength = maximumNumberLength
        self.maximumStringBytes = maximumStringBytes
        self.maximumContainerCount = maximumContainerCount
    }

    /// Depth 32, numbers up to 100 characters, strings up to 64 KiB, 10,000 members or elements per container.
    public static let standard = JSONLimits(
        maximumDepth: 32, maximumNumberLength: 100, maximumStringBytes: 65_536, maximumContainerCount: 10_000)
}
