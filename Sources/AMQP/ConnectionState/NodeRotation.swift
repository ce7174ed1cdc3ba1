/// Which broker node a connection is on, and which it tries next, as a plain value.
///
/// The order is drawn once, when the connection is opened (``AMQPNodeOrder``; the random source is a parameter, so
/// tests are deterministic). The first connect tries each node once in that order
/// (``firstConnectFailed()``); afterwards every lost connection and every failed reconnect attempt moves on to the
/// next node, wrapping around (``moveOn()``), so recovery is never stuck on a dead node while another is up. With
/// one node nothing moves. ``ConnectionStateMachine`` owns the value and moves it with its transitions.
struct NodeRotation: Equatable, Sendable {
    /// Indices into the configuration's ``AMQPConfiguration/nodes``, in the order they are tried.
    let order: [Int]
    /// Position in ``order`` of the node in use, or the one to try next.
    private(set) var position = 0
    /// How many nodes the first connect has tried without success.
    private(set) var firstConnectFailures = 0

    /// A rotation over nodes in this exact order (a permutation of `0..<order.count`).
    init(order: [Int]) {
        precondition(!order.isEmpty && Set(order) == Set(order.indices), "a node order is a permutation of indices")
        self.order = order
    }

    /// The order for `nodeCount` nodes: shuffled with `generator`, or as listed.
    init(nodeCount: Int, order: AMQPNodeOrder, using generator: inout some RandomNumberGenerator) {
        switch order {
        case .asListed: self.init(order: Array(0..<nodeCount))
        case .shuffled: self.init(order: Array(0..<nodeCount).shuffled(using: &generator))
        }
    }

    /// One node.
    static let single = NodeRotation(order: [0])

    /// The node (index into the configuration's nodes) in use, or to try next.
    var current: Int { order[position] }

    /// The first connect's attempt on ``current`` failed: moves on and returns the next node to try, or `nil` when
    /// every node has failed once (the connect fails with all their errors).
    mutating func firstConnectFailed() -> Int? {
        firstConnectFailures += 1
        guard firstConnectFailures < order.count else { return nil }
        moveOn()
        return current
    }

    /// The connection on ``current`` was lost, or a reconnect attempt to it failed: the next node in the order
    /// becomes ``current`` (the first again after the last).
    mutating func moveOn() {
        position = (position + 1) % order.count
    }
}
