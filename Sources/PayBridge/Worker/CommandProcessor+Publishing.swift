import AMQP
import Foundation
import Logging
import PayBridgeContract
import PayBridgeRules
import ProviderCore
import Tracing

extension CommandProcessor {
    /// Publishes the plan's events and next check (together, until the broker confirmed all of them), then its
    /// re-publication (until confirmed), then its reply (until confirmed).
    func carryOut(_ plan: DeliveryPlan, _ log: CommandLog) async throws {
        if !plan.events.isEmpty || plan.nextCheck != nil {
            try await persistently(log) { try await sink.publish(plan.events, then: plan.nextCheck) }
        }
        switch plan.republish {
        case .retry(let retry):
            try await persistently(log) { try await sink.scheduleRetry(retry) } unencodable: { reason in
                var stripped = retry
                stripped.properties = CommandDelivery.withoutProducerHeaders(retry.properties, because: reason)
                try await self.persistently(log) { try await self.sink.scheduleRetry(stripped) }
            }
        case .deadLetter(let deadLetter):
            try await persistently(log) { try await sink.deadLetter(deadLetter) } unencodable: { reason in
                var stripped = deadLetter
                stripped.properties = CommandDelivery.withoutProducerHeaders(deadLetter.properties, because: reason)
                try await self.persistently(log) { try await self.sink.deadLetter(stripped) }
            }
        case nil:
            break
        }
        if let reply = plan.reply {
            try await persistently(log) { try await sink.reply(reply) }
        }
    }

    /// Runs a publish until the broker confirms it: on failure the ``OutcomeGate`` closes and the publish (never
    /// the provider call) is retried with backoff. Throws only `CancellationError`.
    ///
    /// A publish the connection refuses as impossible to encode (``OutcomeRetry/isUnencodable(_:)``: its
    /// properties do not fit a frame) would fail the same way forever, and the broker is fine: the gate stays as
    /// it is and `unencodable`, when given, publishes instead (the command without the producer's headers), once.
    private func persistently(_ log: CommandLog, _ publish: () async throws -> Void,
                              unencodable: ((String) async throws -> Void)? = nil) async throws {
        var failures = 0
        while true {
            do {
                try await publish()
                if failures > 0 { log.info("outcome published after \(failures) failed attempts") }
                gate.publishSucceeded()
                return
            } catch {
                try Task.checkCancellation()
                if let unencodable, OutcomeRetry.isUnencodable(error) {
                    log.error("the command cannot be published again with its properties; publishing it without the producer's headers",
                              [PayBridgeLoggingKeys.error: "\(error)"])
                    let message = (error as? AMQPError)?.message ?? "\(error)"
                    try await unencodable("its properties could not be encoded: \(message)")
                    return
                }
                let reason = OutcomeRetry.reason(error)
                gate.publishFailed(reason: reason)
                metrics.outcomePublishFailure(reason: reason)
                let delay = outcomeRetry.delay(afterFailures: failures)
                failures += 1
                log.error("could not publish the outcome; the command waits and the publish is retried",
                          [PayBridgeLoggingKeys.error: "\(error)", PayBridgeLoggingKeys.retryIn: "\(delay)"])
                try await Task.sleep(for: delay)
            }
        }
    }
}
