/// Metadata keys of PayBridge's log lines, in one place (the AMQP client's are ``AMQPLoggingKeys``). Operators'
/// log queries and alerts use these names: they are part of what docs/operations.md documents.
enum PayBridgeLoggingKeys {
    static let provider = "paybridge.provider"
    static let providers = "paybridge.providers"
    static let account = "paybridge.account"
    static let accounts = "paybridge.accounts"
    static let attempt = "paybridge.attempt"
    static let nextAttempt = "paybridge.next_attempt"
    static let commandId = "paybridge.command_id"
    static let operation = "paybridge.operation"
    static let notificationId = "paybridge.notification_id"
    /// How many payment methods a query's reply lists.
    static let methods = "paybridge.methods"
    static let eventId = "paybridge.event_id"
    static let status = "paybridge.status"
    static let providerStatus = "paybridge.provider_status"
    static let callbackStatus = "paybridge.callback_status"
    static let readStatus = "paybridge.read_status"
    static let amountMismatch = "paybridge.amount_mismatch"
    /// A provider's error code, or PayBridge's own (`TIMEOUT`, `SCHEMA_VIOLATION`, …).
    static let errorCode = "paybridge.error"
    static let errorClass = "paybridge.class"
    /// Why something paused, was refused or dead-lettered.
    static let reason = "paybridge.reason"
    static let pause = "paybridge.pause"
    static let queue = "paybridge.queue"
    static let exchange = "paybridge.exchange"
    static let routingKey = "paybridge.routing_key"
    static let ignoredHeaders = "paybridge.ignored_headers"
    static let check = "paybridge.check"
    static let retryIn = "paybridge.retry_in"
    static let role = "paybridge.role"
    static let reconcileSchedule = "paybridge.reconcile_schedule"
    static let historyRetention = "paybridge.history_retention"
    /// The providers' HTTP client (`PAYBRIDGE_HTTP_TRANSPORT`), in the start-up line.
    static let httpTransport = "paybridge.http_transport"
    /// The W3C trace id of the span a line belongs to.
    static let traceId = "trace_id"
    /// The error's description (never a secret: ``ProviderError`` and ``AMQPError`` descriptions are safe to log).
    static let error = "error"
}
