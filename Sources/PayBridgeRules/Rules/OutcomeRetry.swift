import AMQPValues

/// How long a command waits before it publishes its outcome again after the broker refused it (the exchange is
/// missing, permissions, no queue and no `payments.unrouted`, confirm timeout, connection down): doubling from
/// `initialDelay` up to `maximumDelay`. The provider is never called again for it; see
/// ``CommandProcessor`` and ``OutcomeGate``.
package struct OutcomeRetry: Sendable {
    package var initialDelay: Duration
    package var maximumDelay: Duration

    package init(initialDelay: Duration = .milliseconds(500), maximumDelay: Duration = .seconds(30)) {
        self.initialDelay = initialDelay
        self.maximumDelay = maximumDelay
    }

    /// The wait after `failures` earlier failures of the same publish (0 for the first retry).
    package func delay(afterFailures failures: Int) -> Duration {
        min(maximumDelay, initialDelay * (1 << min(max(failures, 0), 20)))
    }

    /// The failure's label for `paybridge_outcome_publish_failures_total{reason}` and `/readyz`.
    package static func reason(_ error: any Error) -> String {
        guard let error = error as? AMQPError else { return "other" }
        switch error.code {
        case .unroutable: return "unroutable"
        case .publishNacked: return "nacked"
        case .timeout: return "timeout"
        case .channelClosed:
            switch error.replyCode {
            case 404: return "not_found"
            case 403: return "access_refused"
            default: return "channel_closed"
            }
        case .connectionClosed, .connectionFailed, .heartbeatTimeout, .alreadyClosed: return "connection"
        default: return "other"
        }
    }

    /// Whether the publish can never succeed as it is: the connection refused its properties as too large for a
    /// frame (`AMQPError.Code.propertiesTooLarge`), sending nothing. Retrying the same message would loop forever.
    package static func isUnencodable(_ error: any Error) -> Bool {
        (error as? AMQPError)?.code == .propertiesTooLarge
    }

    /// Every label ``reason(_:)`` returns.
    package static let reasons = ["unroutable", "nacked", "timeout", "not_found", "access_refused", "channel_closed",
                          "connection", "other"]
}
