/// An error from the AMQP client: what happened, where, and the broker's or library's own code.
///
/// `description` is safe to log: it never contains credentials. `debugDescription` adds the underlying detail.
public struct AMQPError: Error, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// What kind of failure this is. A struct over a private enum so new codes are not a breaking change.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        enum Base: String, Sendable {
            case connectionFailed, authenticationFailed, connectionClosed, channelClosed, heartbeatTimeout
            case timeout, protocolViolation, invalidConfiguration, alreadyClosed, unroutable, publishNacked
            case consumerCancelled, staleDelivery, libraryError, propertiesTooLarge
        }
        let base: Base
        /// TCP/TLS connect failed (host unreachable, port closed, TLS handshake failed).
        public static let connectionFailed = Code(base: .connectionFailed)
        /// The broker refused the credentials (AMQP 403 ACCESS_REFUSED during login).
        public static let authenticationFailed = Code(base: .authenticationFailed)
        /// The connection was closed by the broker or the network.
        public static let connectionClosed = Code(base: .connectionClosed)
        /// The broker closed the channel, e.g. 404 NOT_FOUND on a passive declare, 406 PRECONDITION_FAILED.
        public static let channelClosed = Code(base: .channelClosed)
        /// No traffic from the broker for two heartbeat intervals.
        public static let heartbeatTimeout = Code(base: .heartbeatTimeout)
        /// An operation did not complete in time.
        public static let timeout = Code(base: .timeout)
        /// The broker sent something the protocol does not allow here.
        public static let protocolViolation = Code(base: .protocolViolation)
        /// The configuration (URL, limits) is invalid.
        public static let invalidConfiguration = Code(base: .invalidConfiguration)
        /// The connection was closed by the application.
        public static let alreadyClosed = Code(base: .alreadyClosed)
        /// A `mandatory` publish could not be routed to any queue (`basic.return`).
        public static let unroutable = Code(base: .unroutable)
        /// The broker refused to take responsibility for a published message (`basic.nack`).
        public static let publishNacked = Code(base: .publishNacked)
        /// The broker cancelled a consumer (queue deleted, node failure): `basic.cancel` from the server.
        public static let consumerCancelled = Code(base: .consumerCancelled)
        /// An ack/nack/reject for a delivery of a connection that has since been replaced; it was not sent.
        public static let staleDelivery = Code(base: .staleDelivery)
        /// A publish whose properties can never be sent as they are: together (headers included) they do not fit
        /// one content-header frame of the negotiated `frame_max`, or one of them (a header key, `message_id`, …) is
        /// longer than the 255 bytes of an AMQP short string. Nothing was sent and the connection is unaffected;
        /// publishing the same properties again fails the same way (``AMQPError/isRetryable`` is `false`).
        public static let propertiesTooLarge = Code(base: .propertiesTooLarge)
        /// librabbitmq reported a status not covered above.
        public static let libraryError = Code(base: .libraryError)
        public var description: String { base.rawValue }
    }

    /// The kind of failure.
    public var code: Code
    /// Human-readable, credential-free message.
    public var message: String
    /// The AMQP reply code (e.g. 404, 403, 406, 320) when the broker sent one.
    public var replyCode: UInt16?
    /// The broker's reply text, when it sent one.
    public var replyText: String?
    /// librabbitmq's status (negative `AMQP_STATUS_*`) when the library reported the failure.
    public var libraryStatus: Int32?
    /// `host:port` of the broker involved.
    public var host: String?
    /// The operation that failed, e.g. `queue.declare(payments.amanpay)`.
    public var operation: String?
    /// Lower-level error, if any.
    public var underlying: (any Error)?

    public init(
        _ code: Code, _ message: String, replyCode: UInt16? = nil, replyText: String? = nil,
        libraryStatus: Int32? = nil, host: String? = nil, operation: String? = nil, underlying: (any Error)? = nil
    ) {
        self.code = code
        self.message = message
        self.replyCode = replyCode
        self.replyText = replyText
        self.libraryStatus = libraryStatus
        self.host = host
        self.operation = operation
        self.underlying = underlying
    }

    /// Whether retrying the same operation later (e.g. after the client reconnected) can succeed.
    /// Publishes that failed because the connection dropped before the confirm are retryable.
    public var isRetryable: Bool {
        switch code.base {
        case .connectionClosed, .heartbeatTimeout, .timeout, .connectionFailed: return true
        default: return false
        }
    }

    public var description: String {
        var parts = ["AMQPError.\(code)"]
        if let operation { parts.append("during \(operation)") }
        if let host { parts.append("on \(host)") }
        var text = parts.joined(separator: " ") + ": " + message
        if let replyCode { text += " (reply \(replyCode)\(replyText.map { " \($0)" } ?? ""))" }
        return text
    }

    public var debugDescription: String {
        var text = description
        if let libraryStatus { text += " [librabbitmq status \(libraryStatus)]" }
        if let underlying { text += " underlying: \(String(reflecting: underlying))" }
        return text
    }
}

extension AMQPError {
    /// The error of a first connect that no node accepted: with one node, that node's error unchanged; with several,
    /// one error naming each node and its failure (messages only: they never hold a password). Its code is the one
    /// every node failed with (all refused the login: `.authenticationFailed`), else `.connectionFailed`.
    package static func noNodeConnected(_ failures: [(endpoint: String, error: AMQPError)]) -> AMQPError {
        precondition(!failures.isEmpty, "a connect that failed tried at least one node")
        if failures.count == 1 { return failures[0].error }
        let codes = Set(failures.map(\.error.code))
        let statuses = Set(failures.map(\.error.libraryStatus))
        let each = failures.map { "\($0.endpoint): \($0.error.code): \($0.error.message)" }
        return AMQPError(codes.count == 1 ? codes.first! : .connectionFailed,
                         "no node of \(failures.count) accepted the connection (" + each.joined(separator: "; ") + ")",
                         libraryStatus: statuses.count == 1 ? statuses.first! : nil,
                         host: failures.map(\.endpoint).joined(separator: ", "), operation: "connect")
    }
}
