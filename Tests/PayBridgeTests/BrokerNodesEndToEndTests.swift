import AMQP
import AsyncHTTPClient
import BrokerTestKit
import Foundation
@testable import PayBridge
import PayBridgeContract
import Testing

/// A worker given two broker "nodes" (two ``TCPRelay``s in front of the one local broker): `/readyz` names the node
/// of each connection, and when the node both are on dies the worker carries on through the other.
@Suite(.timeLimit(.minutes(3))) struct BrokerNodesEndToEndTests {
    @Test func readyzNamesEachConnectionsNodeAndTheWorkerFailsOverWhenItDies() async throws {
        try await EndToEnd.run { world in
            var configuration = try world.configuration()
            let brokerPort = UInt16(configuration.amqp.port)
            let nodeA = try TCPRelay(targetPort: brokerPort)
            let nodeB = try TCPRelay(targetPort: brokerPort)
            defer {
                nodeA.stop()
                nodeB.stop()
            }
            configuration.amqp.port = Int(nodeA.port)
            configuration.amqp.otherNodes = [AMQPNode(host: configuration.amqp.host, port: Int(nodeB.port),
                                                      user: configuration.amqp.user,
                                                      password: configuration.amqp.password)]
            configuration.amqp.nodeOrder = .asListed  // both connections on node A first
            let a = "\(configuration.amqp.host):\(nodeA.port)"
            let b = "\(configuration.amqp.host):\(nodeB.port)"
            try await world.withPayBridge(configuration, role: .worker) { runtime in
                let adminPort = await runtime.adminPort()
                let http = HTTPClient(eventLoopGroupProvider: .singleton)
                defer { _ = http.shutdown() }
                func readyz() async throws -> (status: Int, body: String) {
                    let response = try await http.execute(
                        HTTPClientRequest(url: "http://127.0.0.1:\(adminPort)/readyz"), timeout: .seconds(5))
                    return (Int(response.status.code), String(buffer: try await response.body.collect(upTo: 4096)))
                }
                func eventually(_ body: String) async throws -> Bool {
                    for _ in 0..<200 {
                        let answer = try await readyz()
                        if answer.status == 200 && answer.body == body { return true }
                        try await Task.sleep(for: .milliseconds(50))  // polling an HTTP endpoint
                    }
                    return false
                }
                #expect(try await eventually(
                    "ready\nbroker (consume connection): on \(a)\nbroker (publish connection): on \(a)\n"))
                let before = try await world.send(.amanpayPayout, data: payoutData("p-nodes-before"))
                _ = try await world.events.first(type: OutcomeEvents.responseType, commandId: before)

                nodeA.cut()  // node A dies for good
                #expect(try await eventually(
                    "ready\nbroker (consume connection): on \(b)\nbroker (publish connection): on \(b)\n"),
                    "both connections recovered on node B")
                let after = try await world.send(.amanpayPayout, data: payoutData("p-nodes-after"))
                _ = try await world.events.first(type: OutcomeEvents.responseType, commandId: after)
            }
        }
    }
}
