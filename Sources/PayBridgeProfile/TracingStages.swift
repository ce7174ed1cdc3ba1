import Foundation
import NIOHTTP1
import PayBridge
import PayBridgeContract
import PayBridgeRules
import PayBridgeTracing
import PaymentVocabulary
import ProviderCore
import Tracing

/// Stage 6: what trace propagation adds to a command, with `PayBridgeTracer` and no recorder (the default: ids and
/// propagation, nothing exported). Three parts, each the production call; 6b and 6c are differences (the same work
/// with and without tracing), so they hold only what tracing adds.
struct TracingStages: Sendable {
    let local: LocalStages
    let tracing = MessageTracing(tracer: PayBridgeTracer())
    let queue = Topology.commandQueue(.amanpay)

    /// 6a: the delivery's span as `CommandProcessor.traced` opens it: the parent context from the message
    /// (`MessageTracing.parent(of:event:)`), `withAnySpan` around the walk (a consumer span, the context bound as a
    /// task-local value), and the trace id the command's log lines carry. Async, on one thread.
    func deliverySpan() async throws -> Figures {
        let kinds = local.executed.map { local.rules.classify($0.delivery, receivedAt: Date()) }
        return try await measure(local.plan, row: "6a", scope: .thread) { index in
            let executed = local.executed[index % kinds.count], kind = kinds[index % kinds.count]
            let parent = tracing.parent(of: executed.delivery.properties, event: kind.event)
            return await tracing.tracer.withAnySpan("process \(queue)", context: parent, ofKind: .consumer) { span in
                if span.isRecording { span.attributes["messaging.system"] = "rabbitmq" }
                // The walk inside the span is async in the worker (`await body(span)`): so is this one, though it
                // never suspends.
                return await Self.walk(tracing.current?.traceID.utf8.count ?? 0)
            }
        }
    }

    @inline(never) private static func walk(_ value: Int) async -> Int { value }

    /// 6b: the provider request's client span as both transports make it (started, its `traceparent`
    /// injected into the request's headers, ended), minus the same headers built without it.
    func requestSpan() -> Figures {
        let tracer = tracing.tracer
        return inSpan {
            let with = measure(local.plan, row: "6b") { _ in
                let span = tracer.startAnySpan("POST \(Provider.amanpay.rawValue) payout",
                                               context: ServiceContext.current ?? .topLevel, ofKind: .client)
                defer { span.end() }
                if span.isRecording { span.attributes["paybridge.operation"] = "payout" }
                var headers = Self.requestHeaders()
                tracer.inject(span.context, into: &headers, using: HTTPHeadersInjector())
                return headers.count
            }
            let without = measure(local.plan, row: "6b-") { _ in Self.requestHeaders().count }
            return with.minus(without)
        }
    }

    /// The provider request's headers as the transport builds them (Content-Type, the signature).
    private static func requestHeaders() -> HTTPHeaders {
        var headers = HTTPHeaders()
        headers.reserveCapacity(2)
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Authorization", value: "0123456789abcdef")
        return headers
    }

    /// 6c: stamping what the plan publishes as `OutcomePublisher` does inside a span (the span's headers read, the
    /// event's CloudEvents `traceparent`, the AMQP `traceparent` header on the event and on the check; the event
    /// serialized with it), minus the same publish preparation without tracing (row 4 has that).
    func stamping() -> Figures {
        let plans = local.plans(64)
        return inSpan {
            let with = measure(local.plan, row: "6c") { index in
                LocalStages.published(plans[index % plans.count], tracing: tracing, trace: tracing.current)
            }
            let without = measure(local.plan, row: "6c-") { index in
                LocalStages.published(plans[index % plans.count], tracing: nil, trace: nil)
            }
            return with.minus(without)
        }
    }

    /// Runs `body` with a consumer span's context current, as the worker's steps inside `process` run.
    private func inSpan<T>(_ body: () -> T) -> T {
        let span = tracing.tracer.startAnySpan("process \(queue)", context: .topLevel, ofKind: .consumer)
        defer { span.end() }
        return ServiceContext.withValue(span.context) { body() }
    }
}

extension Figures {
    /// The difference of two measurements of the same scope (what `self` does beyond `other`); the CPU figure is the
    /// difference of the medians.
    func minus(_ other: Figures) -> Figures {
        Figures(allocations: allocations - other.allocations, bytes: bytes - other.bytes,
                cpuMicros: cpuMicros - other.cpuMicros, rounds: zip(rounds, other.rounds).map { $0 - $1 },
                scope: scope,
                allocationRange: allocationRange.map {
                    ($0.lowerBound - other.allocations)...($0.upperBound - other.allocations)
                })
    }

    /// The sum of parts measured separately.
    static func sum(_ parts: [Figures]) -> Figures {
        let process = parts.contains { $0.scope == .process }
        let lowest = parts.map { $0.allocationRange?.lowerBound ?? $0.allocations }.reduce(0, +)
        let highest = parts.map { $0.allocationRange?.upperBound ?? $0.allocations }.reduce(0, +)
        return Figures(allocations: parts.map(\.allocations).reduce(0, +), bytes: parts.map(\.bytes).reduce(0, +),
                       cpuMicros: parts.map(\.cpuMicros).reduce(0, +), rounds: [], scope: process ? .process : .thread,
                       allocationRange: process ? lowest...highest : nil)
    }
}
