/// Builds a JSON object member by member, in order, so callers control the exact text of numbers (A3, F5).
public struct JSONObjectWriter: Sendable {
    private var members: [JSONMember] = []

    /// Room for `capacity` members up front (a request body's dozen, without growing the array four times).
    public init(capacity: Int = 16) { members.reserveCapacity(capacity) }

    /// Appends a string member (nothing when `value` is `nil`).
    public mutating func string(_ key: String, _ value: String?) {
        if let value { members.append(JSONMember(key, .string(value))) }
    }

    /// Appends a number member whose text is written verbatim. The text must be a valid JSON number that the
    /// caller produced (an integer, a `DecimalAmount`).
    public mutating func number(_ key: String, text: String?) {
        if let text { members.append(JSONMember(key, .number(JSONNumber(trusted: text)))) }
    }

    /// Appends any value.
    public mutating func value(_ key: String, _ value: JSONValue?) {
        if let value { members.append(JSONMember(key, value)) }
    }

    /// Appends each of `members` whose name is not written yet (nor earlier in `members`), in order: extra
    /// members never replace or repeat one already there.
    public mutating func unwritten(_ extra: [JSONMember]) {
        guard !extra.isEmpty else { return }
        var written = Set(members.map(\.key))
        for member in extra where written.insert(member.key).inserted { members.append(member) }
    }

    /// The object built so far.
    public var object: JSONValue { .object(JSONObject(members)) }

    /// The compact JSON text of the object, members in order.
    public func serialized() -> String { object.compactText }

    /// The same as ``serialized()``.
    public var compactText: String { object.compactText }
}
