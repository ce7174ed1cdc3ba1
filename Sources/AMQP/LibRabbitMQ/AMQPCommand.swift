/// What a caller asks a connection's I/O thread to do, through ``AMQPMailbox``.
enum AMQPCommand: Sendable {
    case topology(TopologyOperation, CheckedContinuation<AMQPQueueState?, any Error>)
    case publish(PublishRequest)
    case publishBatch([AMQPMessage], deadline: ContinuousClock.Instant?,
                      CheckedContinuation<[Result<Void, AMQPError>], Never>)
    case consume(ConsumerRegistry<DeliverySink, AMQPDelivery>.Subscription, DeliverySink,
                 CheckedContinuation<Void, any Error>)
    case cancel(String, CheckedContinuation<Void, Never>?)
    /// Fire-and-forget: the caller already checked the epoch; the I/O thread checks it again before sending.
    case settle(epoch: UInt64, tag: UInt64, LibRabbitMQHandle.Settlement)
    case close(CheckedContinuation<Void, Never>?)

    typealias DeliverySink = AsyncThrowingStream<[AMQPDelivery], any Error>.Continuation

    /// One message to publish and whoever waits for its confirm.
    struct PublishRequest: Sendable {
        var exchange: String
        var routingKey: String
        var mandatory: Bool
        var properties: AMQPProperties
        var body: [UInt8]
        /// When the caller stops waiting for the confirm (`confirmTimeout` of ``AMQPConnection``'s publish).
        var deadline: ContinuousClock.Instant?
        var continuation: CheckedContinuation<Void, any Error>
    }

    /// Publishes and settlements: the I/O thread sends them and moves on (confirms arrive through the frame
    /// loop), so several can be held and written together.
    var needsNoReply: Bool {
        switch self {
        case .publish, .publishBatch, .settle: true
        default: false
        }
    }

    /// When the caller of a publish (single or batch) stops waiting; `nil` for other commands.
    var publishDeadline: ContinuousClock.Instant? {
        switch self {
        case .publish(let request): request.deadline
        case .publishBatch(_, let deadline, _): deadline
        default: nil
        }
    }

    /// Answers the caller with `error`, without running the command.
    func fail(_ error: AMQPError) {
        switch self {
        case .topology(_, let continuation): continuation.resume(throwing: error)
        case .publish(let request): request.continuation.resume(throwing: error)
        case .publishBatch(let messages, _, let continuation):
            continuation.resume(returning: messages.map { _ in .failure(error) })
        case .consume(_, let sink, let started):
            sink.finish(throwing: error)
            started.resume(throwing: error)
        case .cancel(_, let continuation): continuation?.resume()
        case .settle: return
        case .close(let continuation): continuation?.resume()
        }
    }
}
