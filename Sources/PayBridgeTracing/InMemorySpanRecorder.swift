import Synchronization

/// Keeps every finished span in memory, for tests: ``spans`` now, or ``waitForSpan(where:)`` until one arrives.
public final class InMemorySpanRecorder: SpanRecorder {
    private struct State {
        var spans: [FinishedSpan] = []
        var waiters: [(id: Int, matches: @Sendable (FinishedSpan) -> Bool,
                       continuation: CheckedContinuation<FinishedSpan?, Never>)] = []
        var nextWaiter = 0
        /// Waits cancelled before they were registered.
        var cancelled: Set<Int> = []
    }

    private let state = Mutex(State())

    public init() {}

    public var spans: [FinishedSpan] { state.withLock { $0.spans } }

    public func record(_ span: FinishedSpan) {
        let resumed = state.withLock { state -> [CheckedContinuation<FinishedSpan?, Never>] in
            state.spans.append(span)
            let (matching, rest) = (state.waiters.filter { $0.matches(span) }, state.waiters.filter { !$0.matches(span) })
            state.waiters = rest
            return matching.map(\.continuation)
        }
        for continuation in resumed { continuation.resume(returning: span) }
    }

    /// The first finished span that matches, waiting for it (at most `timeout`) if it has not ended yet.
    public func waitForSpan(timeout: Duration = .seconds(30),
                            where matches: @escaping @Sendable (FinishedSpan) -> Bool) async throws -> FinishedSpan {
        let id = state.withLock { state -> Int in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        return try await withThrowingTaskGroup(of: FinishedSpan?.self) { group in
            group.addTask {
                await withTaskCancellationHandler {
                    await withCheckedContinuation { (continuation: CheckedContinuation<FinishedSpan?, Never>) in
                        let found = self.state.withLock { state -> FinishedSpan?? in
                            if let span = state.spans.first(where: matches) { return .some(span) }
                            if state.cancelled.remove(id) != nil { return .some(nil) }
                            state.waiters.append((id, matches, continuation))
                            return nil
                        }
                        if let found { continuation.resume(returning: found) }
                    }
                } onCancel: {
                    let waiter = self.state.withLock { state -> CheckedContinuation<FinishedSpan?, Never>? in
                        guard let index = state.waiters.firstIndex(where: { $0.id == id }) else {
                            state.cancelled.insert(id)
                            return nil
                        }
                        return state.waiters.remove(at: index).continuation
                    }
                    waiter?.resume(returning: nil)
                }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            let first = try await group.next() ?? nil
            group.cancelAll()
            guard let span = first else { throw SpanWaitTimeout(timeout: timeout) }
            return span
        }
    }
}

/// No matching span ended within the wait.
public struct SpanWaitTimeout: Error, CustomStringConvertible {
    public let timeout: Duration
    public var description: String { "no matching span ended within \(timeout)" }
}
