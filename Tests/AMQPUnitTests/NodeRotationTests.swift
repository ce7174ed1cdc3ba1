@testable import AMQP
import Testing

/// Which node a connection is on and tries next, without a broker: the shuffled order, the first connect's one pass
/// over the nodes, and recovery moving on with the state machine's transitions.
@Suite struct NodeRotationTests {
    /// A seeded generator (SplitMix64): the same seed, the same order.
    struct SeededGenerator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static func shuffled(_ count: Int, seed: UInt64) -> NodeRotation {
        var generator = SeededGenerator(state: seed)
        return NodeRotation(nodeCount: count, order: .shuffled, using: &generator)
    }

    @Test func theShuffledOrderIsAPermutationDrawnFromTheInjectedSourceAndSpreadsTheFirstNode() {
        #expect(Self.shuffled(5, seed: 42) == Self.shuffled(5, seed: 42), "the same source, the same order")
        var firsts = Set<Int>()
        for seed in UInt64(0)..<64 {
            let rotation = Self.shuffled(5, seed: seed)
            #expect(rotation.order.sorted() == [0, 1, 2, 3, 4])
            #expect(rotation.current == rotation.order[0])
            firsts.insert(rotation.current)
        }
        #expect(firsts == [0, 1, 2, 3, 4], "over many connections every node comes first sometimes")
        var generator = SeededGenerator(state: 7)
        #expect(NodeRotation(nodeCount: 4, order: .asListed, using: &generator).order == [0, 1, 2, 3])
    }

    @Test func theFirstConnectTriesEachNodeOnceInOrderThenGivesUp() {
        var rotation = NodeRotation(order: [2, 0, 1])
        #expect(rotation.current == 2)
        #expect(rotation.firstConnectFailed() == 0)
        #expect(rotation.firstConnectFailed() == 1)
        #expect(rotation.firstConnectFailed() == nil, "every node failed once: the connect fails")
        var single = NodeRotation.single
        #expect(single.firstConnectFailed() == nil, "one node: one attempt, as before")
    }

    @Test func movingOnWrapsAroundAndOneNodeStaysPut() {
        var rotation = NodeRotation(order: [1, 2, 0])
        rotation.moveOn()
        #expect(rotation.current == 2)
        rotation.moveOn()
        #expect(rotation.current == 0)
        rotation.moveOn()
        #expect(rotation.current == 1)
        var single = NodeRotation.single
        single.moveOn()
        #expect(single.current == 0)
    }

    @Test func aLostConnectionReconnectsToTheNextNodeNotTheDeadOne() {
        var first = NodeRotation(order: [1, 0, 2])
        _ = first.firstConnectFailed()  // node 1 refused; the connection opened on node 0
        var machine = ConnectionStateMachine(maximumReconnectAttempts: nil, nodes: first)
        #expect(machine.nodes.current == 0)
        #expect(machine.connectionLost().last == .waitThenReconnect(attempt: 0))
        #expect(machine.nodes.current == 2, "the first reconnect goes to the next node")
        #expect(machine.reconnectFailed() == [.waitThenReconnect(attempt: 1)], "backoff counts on across nodes")
        #expect(machine.nodes.current == 1)
        #expect(machine.reconnectFailed() == [.waitThenReconnect(attempt: 2)])
        #expect(machine.nodes.current == 0, "after the last node, the first again")
        #expect(machine.reconnectSucceeded() == [.announce(.reconnected(attempts: 3))])
        #expect(machine.nodes.current == 0, "connected: stays on the node it reached")
    }

    @Test func onlyLosingTheConnectionOrFailingAnAttemptMovesOn() {
        var machine = ConnectionStateMachine(maximumReconnectAttempts: 2, nodes: NodeRotation(order: [0, 1]))
        _ = machine.channelClosed(.consuming, number: 2, replyCode: 404, replyText: "NOT_FOUND")
        _ = machine.brokerBlocked(reason: "memory")
        #expect(machine.nodes.current == 0, "a channel closing or a blocked broker is not a node failure")
        _ = machine.connectionLost()
        _ = machine.connectionLost()
        #expect(machine.nodes.current == 1, "a repeated report of one loss moves once")
        _ = machine.reconnectFailed()
        #expect(machine.nodes.current == 0)
        #expect(machine.reconnectFailed().contains(.announce(.gaveUp)))
        #expect(machine.nodes.current == 0, "giving up moves nowhere")
    }

    @Test func aFirstConnectThatNoNodeAcceptedNamesEachNodesFailureAndOneNodeKeepsItsError() {
        let refused = AMQPError(.connectionFailed, "cannot connect: connection refused", libraryStatus: -9,
                                host: "127.0.0.1:1", operation: "connect")
        let login = AMQPError(.authenticationFailed, "login refused: check the user name, password and vhost access",
                              replyCode: 403, host: "h2:5672", operation: "login")
        let one = AMQPError.noNodeConnected([("127.0.0.1:1", refused)])
        #expect("\(one)" == "\(refused)", "one node: the error as it always was")
        let mixed = AMQPError.noNodeConnected([("127.0.0.1:1", refused), ("h2:5672", login)])
        #expect(mixed.code == .connectionFailed)
        #expect(mixed.host == "127.0.0.1:1, h2:5672")
        #expect(mixed.message.contains("127.0.0.1:1: connectionFailed: cannot connect: connection refused"))
        #expect(mixed.message.contains("h2:5672: authenticationFailed: login refused"))
        #expect(mixed.message.hasPrefix("no node of 2 accepted the connection"))
        let logins = AMQPError.noNodeConnected([("h1:5672", login), ("h2:5672", login)])
        #expect(logins.code == .authenticationFailed, "every node refused the login: that is the error")
    }
}
