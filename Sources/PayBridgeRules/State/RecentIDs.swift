/// A bounded set of recently seen ids (oldest forgotten first).
package struct RecentIDs: Sendable {
    package let capacity: Int
    private var set: Set<String> = []
    private var order: [String] = []
    private var head = 0

    package init(capacity: Int) { self.capacity = capacity }

    /// Records `id`; returns `true` when it was already there.
    package mutating func insert(_ id: String) -> Bool {
        if set.contains(id) { return true }
        set.insert(id)
        if order.count < capacity {
            order.append(id)
        } else {
            set.remove(order[head])
            order[head] = id
            head = (head + 1) % capacity
        }
        return false
    }
}
