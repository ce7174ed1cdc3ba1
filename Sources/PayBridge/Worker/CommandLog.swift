import AMQP
import Logging

/// A command's log context; the metadata dictionary is built only for lines that pass the log level.
package struct CommandLog {
    let logger: Logger
    let provider: String
    let attempt: Int
    let deliveryTag: UInt64
    package var commandId: String?
    package var operation: String?
    /// The W3C trace id of the delivery's span (32 hex digits), when it has one.
    package var traceId: String?
    /// The merchant account, once read.
    package var account: String?

    package init(logger: Logger, provider: String, attempt: Int, deliveryTag: UInt64) {
        self.logger = logger
        self.provider = provider
        self.attempt = attempt
        self.deliveryTag = deliveryTag
    }

    private func metadata(_ extra: Logger.Metadata) -> Logger.Metadata {
        var metadata = extra
        metadata[PayBridgeLoggingKeys.provider] = "\(provider)"
        metadata[PayBridgeLoggingKeys.attempt] = "\(attempt)"
        metadata[AMQPLoggingKeys.deliveryTag] = "\(deliveryTag)"
        if let commandId { metadata[PayBridgeLoggingKeys.commandId] = "\(commandId)" }
        if let operation { metadata[PayBridgeLoggingKeys.operation] = "\(operation)" }
        if let traceId { metadata[PayBridgeLoggingKeys.traceId] = "\(traceId)" }
        if let account { metadata[PayBridgeLoggingKeys.account] = "\(account)" }
        return metadata
    }

    package func debug(_ message: @autoclosure () -> Logger.Message, _ extra: @autoclosure () -> Logger.Metadata = [:]) {
        logger.debug(message(), metadata: metadata(extra()))
    }
    package func info(_ message: @autoclosure () -> Logger.Message, _ extra: @autoclosure () -> Logger.Metadata = [:]) {
        logger.info(message(), metadata: metadata(extra()))
    }
    func warning(_ message: @autoclosure () -> Logger.Message, _ extra: @autoclosure () -> Logger.Metadata = [:]) {
        logger.warning(message(), metadata: metadata(extra()))
    }
    func error(_ message: @autoclosure () -> Logger.Message, _ extra: @autoclosure () -> Logger.Metadata = [:]) {
        logger.error(message(), metadata: metadata(extra()))
    }
}
