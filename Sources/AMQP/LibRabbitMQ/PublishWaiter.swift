/// Who waits for a publish's confirm in the I/O thread's ``PublishConfirmLedger``: its own caller, or a slot of
/// a batch. Created and completed on the I/O thread only.
enum PublishWaiter {
    case single(CheckedContinuation<Void, any Error>)
    case batch(PublishBatch, Int)

    func complete(_ result: Result<Void, AMQPError>) {
        switch self {
        case .single(let continuation):
            switch result {
            case .success: continuation.resume()
            case .failure(let error): continuation.resume(throwing: error)
            }
        case .batch(let batch, let index): batch.complete(index, result)
        }
    }
}

/// The confirms of one ``AMQPConnection/publish(batch:)`` call; resumes its caller once, when all are in.
/// Not `Sendable`: it is created on the I/O thread and only ever touched there.
final class PublishBatch {
    private var results: [Result<Void, AMQPError>]
    private var remaining: Int
    private let continuation: CheckedContinuation<[Result<Void, AMQPError>], Never>

    init(count: Int, continuation: CheckedContinuation<[Result<Void, AMQPError>], Never>) {
        results = Array(repeating: .success(()), count: count)
        remaining = count
        self.continuation = continuation
        if count == 0 { continuation.resume(returning: []) }
    }

    func complete(_ index: Int, _ result: Result<Void, AMQPError>) {
        results[index] = result
        remaining -= 1
        if remaining == 0 { continuation.resume(returning: results) }
    }
}
