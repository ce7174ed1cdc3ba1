import Synchronization

/// Counts one listener's open connections against its cap. Shared by the handlers of all its connections, which
/// run on different event loops, hence the atomic.
final class HTTPConnectionGuard: Sendable {
    let maximumConnections: Int
    private let openConnections = Atomic<Int>(0)

    init(maximumConnections: Int) {
        self.maximumConnections = maximumConnections
    }

    /// Takes a place for a new connection; `false` (and nothing taken) when the listener is full.
    func admit() -> Bool {
        if openConnections.wrappingAdd(1, ordering: .relaxed).newValue <= maximumConnections { return true }
        openConnections.wrappingSubtract(1, ordering: .relaxed)
        return false
    }

    /// Gives back the place of an admitted connection that closed.
    func release() {
        openConnections.wrappingSubtract(1, ordering: .relaxed)
    }

    /// Connections admitted and not yet closed.
    var open: Int { openConnections.load(ordering: .relaxed) }
}
