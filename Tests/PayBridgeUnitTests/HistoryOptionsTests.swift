import AMQP
import Foundation
import PayBridgeContract
@testable import PayBridgeTools
import StrictJSON
import Testing

/// `paybridge events replay`'s options and filters, without a broker.
@Suite struct HistoryOptionsTests {
    static let now = Date(timeIntervalSince1970: 1_796_551_200)  // 2026-12-06T10:00:00Z

    @Test func rfc3339TimesAreParsedStrictly() throws {
        #expect(RFC3339.date(from: "2026-12-06T10:00:00Z") == Self.now)
        #expect(RFC3339.date(from: "2026-12-06t10:00:00z") == Self.now)
        #expect(RFC3339.date(from: "2026-12-06T10:00:00.250Z") == Self.now.addingTimeInterval(0.25))
        let fraction = try #require(RFC3339.date(from: "2026-12-06T10:00:00.123456789Z"))
        #expect(abs(fraction.timeIntervalSince(Self.now) - 0.123) < 0.000_001, "milliseconds count: \(fraction)")
        #expect(RFC3339.date(from: "2026-12-06T16:00:00+06:00") == Self.now)
        #expect(RFC3339.date(from: "2026-12-06T04:30:00-05:30") == Self.now)
        #expect(RFC3339.date(from: "1970-01-01T00:00:00Z") == Date(timeIntervalSince1970: 0))
        #expect(RFC3339.date(from: "2028-02-29T00:00:00Z") != nil, "a leap day")
        // What PayBridge writes reads back to the same instant.
        let written = RFC3339.string(from: Self.now.addingTimeInterval(1.5))
        #expect(RFC3339.date(from: written) == Self.now.addingTimeInterval(1.5))
        for bad in ["2026-12-06", "2026-12-06T10:00:00", "2026-12-06 10:00:00Z", "2026-13-06T10:00:00Z",
                    "2026-02-30T10:00:00Z", "2027-02-29T00:00:00Z", "2026-12-06T24:00:00Z", "2026-12-06T10:00:00.Z",
                    "2026-12-06T10:00:00+0600", "2026-12-06T10:00:00Zjunk", "２０２６-12-06T10:00:00Z", ""] {
            #expect(RFC3339.date(from: bad) == nil, "\(bad) was accepted")
        }
    }

    @Test func sinceTakesATimeOrADurationBackFromNow() throws {
        #expect(try HistoryReader.since(parsing: "2026-12-06T10:00:00Z", now: Self.now) == Self.now)
        #expect(try HistoryReader.since(parsing: "90m", now: Self.now) == Self.now.addingTimeInterval(-5400))
        #expect(try HistoryReader.since(parsing: "24h", now: Self.now) == Self.now.addingTimeInterval(-86_400))
        #expect(try HistoryReader.since(parsing: "7d", now: Self.now) == Self.now.addingTimeInterval(-604_800))
        #expect(try HistoryReader.since(parsing: "30s", now: Self.now) == Self.now.addingTimeInterval(-30))
        for bad in ["yesterday", "7", "7D", "-1h", "0h", "1.5h", "2026-12-06", "h"] {
            let error = #expect(throws: HistoryReaderOptionError.self, "\(bad) was accepted") {
                try HistoryReader.since(parsing: bad, now: Self.now)
            }
            #expect(error?.message.contains("RFC 3339") == true)
        }
    }

    @Test func idleTakesADuration() throws {
        #expect(try HistoryReader.idle(parsing: "2s") == .seconds(2))
        #expect(try HistoryReader.idle(parsing: "500ms") == .milliseconds(500))
        #expect(try HistoryReader.idle(parsing: "1m") == .seconds(60))
        #expect(try HistoryReader.idle(parsing: "3") == .seconds(3))
        for bad in ["0s", "0", "fast", "1h", "-2s", "ms"] {
            #expect(throws: HistoryReaderOptionError.self, "\(bad) was accepted") {
                try HistoryReader.idle(parsing: bad)
            }
        }
        #expect(HistoryReader.Options(since: Self.now).idle == .seconds(2), "the documented default")
    }

    static func event(time: String?, paymentId: String? = nil, providerPaymentId: JSONValue? = nil) throws
        -> CloudEvent
    {
        var data: [JSONMember] = [JSONMember("status", .string("succeeded"))]
        if let paymentId { data.append(JSONMember("paymentId", .string(paymentId))) }
        if let providerPaymentId { data.append(JSONMember("providerPaymentId", providerPaymentId)) }
        var members = [JSONMember("specversion", .string("1.0")), JSONMember("id", .string("e1")),
                       JSONMember("type", .string(OutcomeEvents.responseType)), JSONMember("source", .string("/t"))]
        if let time { members.append(JSONMember("time", .string(time))) }
        members.append(JSONMember("data", .object(JSONObject(data))))
        return try CloudEvent(json: .object(JSONObject(members)))
    }

    @Test func filtersBySinceAndPayment() throws {
        let options = HistoryReader.Options(since: Self.now)
        let before = try Self.event(time: "2026-12-06T09:59:59.999Z")
        let at = try Self.event(time: "2026-12-06T10:00:00Z")
        func matches(_ event: CloudEvent, _ options: HistoryReader.Options, timestamp: UInt64? = nil) -> Bool {
            let time = HistoryReader.time(of: event, properties: AMQPProperties(timestamp: timestamp))
            return HistoryReader.matches(event, time: time, options)
        }
        #expect(!matches(before, options))
        #expect(matches(at, options))
        // Without a CloudEvents time the AMQP timestamp counts; with neither, the event is kept.
        let untimed = try Self.event(time: nil)
        #expect(!matches(untimed, options, timestamp: 1_796_551_199))
        #expect(matches(untimed, options, timestamp: 1_796_551_200))
        #expect(matches(untimed, options))

        var forPayment = options
        forPayment.paymentId = "order-77"
        #expect(matches(try Self.event(time: "2026-12-06T10:00:01Z", paymentId: "order-77"), forPayment))
        #expect(matches(try Self.event(time: "2026-12-06T10:00:01Z", paymentId: "x", providerPaymentId: .string("order-77")),
                        forPayment))
        #expect(!matches(try Self.event(time: "2026-12-06T10:00:01Z", paymentId: "order-7"), forPayment))
        #expect(!matches(try Self.event(time: "2026-12-06T10:00:01Z"), forPayment))
        forPayment.paymentId = "62861"
        #expect(matches(try Self.event(time: "2026-12-06T10:00:01Z", paymentId: "p",
                                       providerPaymentId: .number(JSONNumber(62861))), forPayment),
                "a numeric provider id compares as its text")
    }

    @Test func oneReadableLinePerEvent() throws {
        let body = #"{"specversion":"1.0","id":"ev-1","type":"paybridge.payment.response.v1","source":"/paybridge","time":"2026-12-06T10:00:01.250Z","data":{"account":"default","paymentId":"payment_812","providerPaymentId":"62861","status":"succeeded","final":true}}"#
        let line = EventPrinter.line(ReceivedEvent(routingKey: "amanpay.purchase.response",
                                                   properties: AMQPProperties(), body: Array(body.utf8)))
        #expect(line == "2026-12-06T10:00:01.250Z  paybridge.payment.response.v1  amanpay.purchase.response  "
                + "account default  payment payment_812 → provider 62861  status succeeded (final)  event ev-1")
        #expect(!line.contains("\n"))
        let junk = EventPrinter.line(ReceivedEvent(routingKey: "k", properties: AMQPProperties(), body: Array("x\ny".utf8)))
        #expect(!junk.contains("\n"))
    }
}
