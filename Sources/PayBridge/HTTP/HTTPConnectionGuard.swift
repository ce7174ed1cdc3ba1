import Synchronization

/// Counts one listener's open connections against its caps: in total, and per client address (``ClientAddress``).
/// Shared by the handlers of all its connections, which run on different event loops, hence the atomic and the
/// mutex.
///
/// The per-client table holds only clients with a connection open (an entry goes when its last connection closes),
/// so it never has more than ``maximumConnections`` entries, however many addresses connect.
final class HTTPConnectionGuard: Sendable {
    let maximumConnections: Int
    let maximumConnectionsPerClient: Int
    private let openConnections = Atomic<Int>(0)
    private let openPerClient = Mutex<[ClientAddress: Int]>([:])

    /// What ``admit(from:)`` decided.
    enum Admission: Equatable {
        case admitted
        /// The listener has ``maximumConnections`` open.
        case listenerFull
        /// This client has ``maximumConnectionsPerClient`` open.
        case clientFull
    }

    init(maximumConnections: Int, maximumConnectionsPerClient: Int) {
        self.maximumConnections = maximumConnections
        self.maximumConnectionsPerClient = maximumConnectionsPerClient
    }

    /// Takes a place for a new connection from `client`; nothing is taken unless it is ``Admission/admitted``.
    func admit(from client: ClientAddress) -> Admission {
        guard openConnections.wrappingAdd(1, ordering: .relaxed).newValue <= maximumConnections else {
            openConnections.wrappingSubtract(1, ordering: .relaxed)
            return .listenerFull
        }
        let admitted = openPerClient.withLock { table in
            let open = table[client, default: 0]
            guard open < maximumConnectionsPerClient else { return false }
            table[client] = open + 1
            return true
        }
        if admitted { return .admitted }
        openConnections.wrappingSubtract(1, ordering: .relaxed)
        return .clientFull
    }

    /// Gives back the place of an admitted connection from `client` that closed.
    func release(from client: ClientAddress) {
        openPerClient.withLock { table in
            let open = table[client, default: 0] - 1
            table[client] = open > 0 ? open : nil
        }
        openConnections.wrappingSubtract(1, ordering: .relaxed)
    }

    /// Connections admitted and not yet closed.
    var open: Int { openConnections.load(ordering: .relaxed) }

    /// Clients with at least one connection open: the size of the per-client table.
    var clients: Int { openPerClient.withLock { $0.count } }
}
