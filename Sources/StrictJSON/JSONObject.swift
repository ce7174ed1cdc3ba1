/// One `"key": value` member of a JSON object.
public struct JSONMember: Sendable, Hashable {
    public var key: String
    public var value: JSONValue

    public init(_ key: String, _ value: JSONValue) {
        self.key = key
        self.value = value
    }
}

/// A JSON object: its members in the order they were written (provider signatures depend on it), looked up by
/// key like a dictionary.
///
/// Equality and hashing ignore member order (`{"a":1,"b":2}` equals `{"b":2,"a":1}`), as JSON means. Keys are
/// unique in everything the parser produces (it refuses duplicates); setting a key that exists replaces its value
/// in place. Large objects keep an index, so a lookup never scans thousands of members.
public struct JSONObject: Sendable {
    public private(set) var members: [JSONMember]
    private var index: [String: Int]?

    /// Objects this small are searched member by member: cheaper than hashing the key.
    private static let indexThreshold = 16

    public init() {
        members = []
    }

    /// The members in order. A later member with the same key as an earlier one replaces its value.
    public init(_ members: [JSONMember]) {
        self.init()
        self.members.reserveCapacity(members.count)
        for member in members { self[member.key] = member.value }
    }

    /// Members whose keys are known to be unique (the parser has checked them): no per-member lookup.
    init(uniqueMembers members: [JSONMember]) {
        self.members = members
        rebuildIndex()
    }

    /// The entries of a dictionary, in key order (a dictionary has none of its own).
    public init(_ dictionary: [String: JSONValue]) {
        self.init(dictionary.keys.sorted().map { JSONMember($0, dictionary[$0]!) })
    }

    /// Room for `count` members without growing (for objects built member by member).
    public mutating func reserveCapacity(_ count: Int) { members.reserveCapacity(count) }

    public var count: Int { members.count }
    public var isEmpty: Bool { members.isEmpty }
    /// The keys in member order.
    public var keys: [String] { members.map(\.key) }
    /// The values in member order.
    public var values: [JSONValue] { members.map(\.value) }

    /// The value of member `key`; setting `nil` removes the member.
    public subscript(key: String) -> JSONValue? {
        get { position(of: key).map { members[$0].value } }
        set {
            if let position = position(of: key) {
                if let newValue {
                    members[position].value = newValue
                } else {
                    members.remove(at: position)
                    rebuildIndex()
                }
            } else if let newValue {
                members.append(JSONMember(key, newValue))
                if index != nil {
                    index![key] = members.count - 1
                } else if members.count > Self.indexThreshold {
                    rebuildIndex()
                }
            }
        }
    }

    /// Whether a member is named `key`.
    public func contains(key: String) -> Bool { position(of: key) != nil }

    private func position(of key: String) -> Int? {
        if let index { return index[key] }
        return members.firstIndex { $0.key == key }
    }

    private mutating func rebuildIndex() {
        guard members.count > Self.indexThreshold else {
            index = nil
            return
        }
        var built: [String: Int] = [:]
        built.reserveCapacity(members.count)
        for (position, member) in members.enumerated() { built[member.key] = position }
        index = built
    }
}

extension JSONObject: Sequence {
    /// Members as `(key:, value:)` pairs, in order, as a dictionary's elements are named.
    public func makeIterator() -> some IteratorProtocol<(key: String, value: JSONValue)> {
        members.lazy.map { (key: $0.key, value: $0.value) }.makeIterator()
    }

    public var underestimatedCount: Int { members.count }
}

extension JSONObject: Hashable {
    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        guard lhs.count == rhs.count else { return false }
        for member in lhs.members {
            guard let other = rhs[member.key], other == member.value else { return false }
        }
        return true
    }

    public func hash(into hasher: inout Hasher) {
        // Order-independent: the members' hashes are combined by addition.
        var combined = 0
        for member in members {
            var one = Hasher()
            one.combine(member)
            combined = combined &+ one.finalize()
        }
        hasher.combine(members.count)
        hasher.combine(combined)
    }
}

extension JSONObject: ExpressibleByDictionaryLiteral {
    /// In literal order; a repeated key keeps its last value.
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self.init()
        members.reserveCapacity(elements.count)
        for (key, value) in elements { self[key] = value }
    }
}

extension JSONObject: ExpressibleByArrayLiteral {
    /// Members in order: `.object([JSONMember("a", 1), JSONMember("b", 2)])`.
    public init(arrayLiteral members: JSONMember...) {
        self.init(members)
    }
}
