import AMQPValues
import PayBridgeRules
import PayBridgeContract
import Testing

/// PayBridge's own headers on a command, read without trusting them.
@Suite struct CommandHeadersTests {
    static func read(_ headers: AMQPTable?, problems: AMQPDecodingProblems = [], key: String = "amanpay.purchase")
        -> CommandHeaders
    {
        var properties = AMQPProperties(headers: headers)
        properties.decodingProblems = problems
        return CommandHeaders(properties: properties, deliveryRoutingKey: key)
    }

    @Test func aFirstDeliveryIsAttemptOneUnderItsOwnKey() {
        let headers = Self.read(nil)
        #expect(headers == CommandHeaders(attempt: 1, routingKey: "amanpay.purchase", problem: nil))
    }

    @Test func aRetryCarriesItsAttemptAndOriginalKey() {
        let headers = Self.read([Topology.Headers.attempt: .int32(3),
                                 Topology.Headers.originalRoutingKey: .string("amanpay.payout")], key: "amanpay")
        #expect(headers == CommandHeaders(attempt: 3, routingKey: "amanpay.payout", problem: nil))
    }

    @Test(arguments: [
        AMQPFieldValue.int64(3_000_000_000), .uint32(3_000_000_000), .int64(.max), .int64(.min), .int32(0),
        .int32(-1), .timestamp(.max), .string("2"), .double(2), .table([:]), .void,
    ])
    func anAttemptOutsideOneToInt32MaxIsAnInvalidHeaderNotATrap(_ value: AMQPFieldValue) {
        let headers = Self.read([Topology.Headers.attempt: value])
        #expect(headers.problem?.code == "INVALID_HEADER")
        #expect(headers.problem?.message.contains(Topology.Headers.attempt) == true)
        #expect(headers.attempt == 1)
        #expect(headers.routingKey == "amanpay.purchase")
    }

    @Test func theLargestAttemptIsAcceptedAndForwardedWithoutATrap() {
        let headers = Self.read([Topology.Headers.attempt: .uint32(UInt32(Int32.max))])
        #expect(headers.problem == nil)
        #expect(headers.attempt == Int(Int32.max))
    }

    @Test(arguments: [AMQPFieldValue.string(""), .string(String(repeating: "k", count: 256)), .int32(1), .table([:])])
    func anUnusableOriginalRoutingKeyIsAnInvalidHeader(_ value: AMQPFieldValue) {
        let headers = Self.read([Topology.Headers.originalRoutingKey: value], key: "amanpay")
        #expect(headers.problem?.code == "INVALID_HEADER")
        #expect(headers.routingKey == "amanpay", "dead-lettered under the delivery's own key")
    }

    @Test func headersNestedTooDeepAreRejected() {
        let headers = Self.read([Topology.Headers.attempt: .int32(2)], problems: .headersTooDeep)
        #expect(headers.problem?.code == "HEADERS_TOO_DEEP")
        #expect(headers.attempt == 1)
    }

    @Test func metadataThatIsNotUTF8IsAnInvalidHeader() {
        let headers = Self.read([Topology.Headers.attempt: .int32(2)], problems: .notUTF8)
        #expect(headers.problem?.code == "INVALID_HEADER")
        #expect(headers.attempt == 1)
    }

    @Test func aDamagedDeliveryIsForwardedWithoutTheProducersMetadata() {
        var properties = AMQPProperties(headers: ["x-\u{FFFD}": .string("v")], messageId: "m")
        properties.decodingProblems = .notUTF8
        let forwarded = CommandDelivery.forwardedProperties(properties, attempt: 1, originalRoutingKey: "amanpay.purchase")
        #expect(forwarded.messageId == nil)
        #expect(forwarded.headers == [Topology.Headers.attempt: .int32(1),
                                      Topology.Headers.originalRoutingKey: .string("amanpay.purchase")])
        #expect(forwarded.persistent == true)
        var deep = AMQPProperties(headers: ["x-nested": .void], messageId: "m")
        deep.decodingProblems = .headersTooDeep
        let forwardedDeep = CommandDelivery.forwardedProperties(deep, attempt: 1, originalRoutingKey: "k")
        #expect(forwardedDeep.messageId == "m", "only the headers were cut")
        #expect(forwardedDeep.headers?["x-nested"] == nil)
    }
}
