import AMQP
import Foundation
@testable import PayBridge
import PayBridgeContract
import PayBridgeTracing
import ProviderSandbox
import StrictJSON
import Testing
import Tracing

/// Through the broker, a runtime and the provider sandbox, with an in-memory span recorder: one
/// trace from a command's `traceparent` through the provider call to its event, and a callback's new trace linked
/// to it.
@Suite(.timeLimit(.minutes(3))) struct TracingEndToEndTests {
    /// A producer's span: the command's parent.
    static func producer() -> TraceContext { TraceContext.newTrace() }

    static func tracedConfiguration(_ world: EndToEnd, _ recorder: InMemorySpanRecorder) throws
        -> PayBridgeConfiguration
    {
        var configuration = try world.configuration()
        configuration.tracer = PayBridgeTracer(recorder: recorder)
        return configuration
    }

    @Test func oneTraceFromTheCommandThroughTheProviderCallToItsEventAndItsCallback() async throws {
        let recorder = InMemorySpanRecorder()
        try await EndToEnd.run { world in
            try await world.withPayBridge(try Self.tracedConfiguration(world, recorder)) { _ in
                let producer = Self.producer()
                let paymentId = "trace-\(UUID().uuidString.prefix(8).lowercased())"
                let commandId = "cmd-\(UUID().uuidString.lowercased())"
                let envelope: JSONValue = .object([
                    "specversion": "1.0", "id": .string(commandId), "type": .string(PaymentCommandKind.amanpayPurchase.type),
                    "source": "/tests/tracing", "time": "2026-12-01T06:00:00Z",
                    "datacontenttype": "application/json", "data": .object(purchaseData(paymentId)),
                ])
                try await world.sendRaw(envelope.serialized(), routingKey: PaymentCommandKind.amanpayPurchase.routingKey,
                                        messageId: commandId,
                                        headers: ["traceparent": .string(producer.traceparent),
                                                  "tracestate": .string("shop=order-7")])
                let response = try await world.events.first(type: OutcomeEvents.responseType, commandId: commandId)

                // The worker's span: a child of the producer's span, in its trace.
                let process = try await recorder.waitForSpan {
                    $0.kind == .consumer && $0.attribute("paybridge.command_id") == commandId
                }
                #expect(process.context.traceID == producer.traceID)
                #expect(process.parentSpanID == producer.spanID && process.parentIsRemote)
                #expect(process.operationName == "process payments.amanpay")
                #expect(process.attribute("paybridge.provider") == "amanpay")
                #expect(process.attribute("paybridge.operation") == "amanpay.purchase")
                #expect(process.attribute("paybridge.payment_id") == paymentId)
                #expect(process.attribute("messaging.destination.name") == "payments.amanpay")

                // The provider call: a client span under it, and the sandbox saw the same trace.
                let call = try #require(recorder.spans.first {
                    $0.kind == .client && $0.parentSpanID == process.context.spanID
                })
                #expect(call.context.traceID == producer.traceID)
                #expect(call.attribute("paybridge.operation") == "purchase")
                let received = try #require(world.sandbox.receivedRequests().first {
                    $0.operation == "purchase" && $0.paymentId == paymentId
                })
                #expect(received.traceparent == call.context.traceparent, "the request carries the client span")

                // The event: the CloudEvents attribute and the AMQP header name the worker's span.
                let eventTrace = try #require(response.event.extensions["traceparent"]?.stringValue)
                #expect(eventTrace == process.context.traceparent)
                #expect(response.properties.headers?["traceparent"]?.stringValue == eventTrace)
                #expect(response.event.extensions["tracestate"]?.stringValue == "shop=order-7")
                #expect(response.schemaErrors.isEmpty, "\(response.schemaErrors)")
                for secret in [world.sandbox.configuration.amanpaySecretKey.value] {
                    #expect(!recorder.spans.contains { span in
                        "\(span.attributes)".contains(secret)
                    }, "no span attribute carries a secret")
                }

                // The callback: a new trace at the endpoint, linked to the payment's trace (the sandbox passes on the
                // traceparent of the create, as a provider that propagates W3C context would).
                #expect(world.sandbox.completeAmanpay(paymentId: paymentId, status: "SUCCESS"))
                try await world.events.wait {
                    $0.contains { $0.event.type == OutcomeEvents.callbackType && $0.data["paymentId"]?.stringValue == paymentId }
                }
                let callbackEvent = try #require(world.events.all.first {
                    $0.event.type == OutcomeEvents.callbackType && $0.data["paymentId"]?.stringValue == paymentId
                })
                let endpoint = try await recorder.waitForSpan {
                    $0.kind == .server && $0.attribute("paybridge.payment_id") == paymentId
                }
                #expect(endpoint.operationName == "callback amanpay")
                #expect(endpoint.parentSpanID == nil && endpoint.context.traceID != producer.traceID)
                #expect(endpoint.links.map(\.traceID) == [producer.traceID], "linked to the payment's trace")
                let confirm = try await recorder.waitForSpan {
                    $0.kind == .consumer && $0.parentSpanID == endpoint.context.spanID
                }
                #expect(confirm.context.traceID == endpoint.context.traceID && confirm.parentIsRemote)
                #expect(confirm.attribute("paybridge.operation") == "callback")
                let callbackTrace = try #require(callbackEvent.event.extensions["traceparent"]?.stringValue)
                #expect(callbackTrace == confirm.context.traceparent)
                #expect(recorder.spans.contains {
                    $0.kind == .client && $0.parentSpanID == confirm.context.spanID
                        && $0.attribute("paybridge.operation") == "status"
                }, "the status read that confirms the callback is in the callback's trace")
            }
        }
    }

    @Test func theCloudEventsTraceparentIsTheParentWhenNoHeaderCarriesOneAndAnInvalidHeaderIsIgnored() async throws {
        let recorder = InMemorySpanRecorder()
        try await EndToEnd.run { world in
            try await world.withPayBridge(try Self.tracedConfiguration(world, recorder)) { _ in
                let producer = Self.producer()
                let commandId = "cmd-\(UUID().uuidString.lowercased())"
                let envelope: JSONValue = .object([
                    "specversion": "1.0", "id": .string(commandId), "type": .string(PaymentCommandKind.amanpayStatus.type),
                    "source": "/tests/tracing", "time": "2026-12-01T06:00:00Z", "traceparent": .string(producer.traceparent),
                    "datacontenttype": "application/json", "data": ["paymentId": "no-such-payment", "paymentType": "purchase"],
                ])
                try await world.sendRaw(envelope.serialized(), routingKey: PaymentCommandKind.amanpayStatus.routingKey,
                                        messageId: commandId,
                                        headers: ["traceparent": .string("00-NOT-A-TRACEPARENT-" + String(repeating: "x", count: 10_000))])
                let event = try await world.events.wait(forCommand: commandId)
                let process = try await recorder.waitForSpan {
                    $0.kind == .consumer && $0.attribute("paybridge.command_id") == commandId
                }
                #expect(process.context.traceID == producer.traceID)
                #expect(process.parentSpanID == producer.spanID)
                #expect(event.event.extensions["traceparent"]?.stringValue == process.context.traceparent)

                // No trace context at all: a new trace, and the event still carries it.
                let untraced = try await world.send(.amanpayStatus, data: ["paymentId": "no-such-payment-either", "paymentType": "purchase"])
                let untracedEvent = try await world.events.wait(forCommand: untraced)
                let root = try await recorder.waitForSpan {
                    $0.kind == .consumer && $0.attribute("paybridge.command_id") == untraced
                }
                #expect(root.parentSpanID == nil)
                #expect(untracedEvent.event.extensions["traceparent"]?.stringValue == root.context.traceparent)
            }
        }
    }
}

extension EventRecorder {
    /// The first event of any type for `commandId`.
    func wait(forCommand commandId: String) async throws -> RecordedEvent {
        try await wait { $0.contains { $0.commandId == commandId } }
        return all.first { $0.commandId == commandId }!
    }
}
