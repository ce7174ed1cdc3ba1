import Logging
import NIOCore
import Synchronization

/// The name lookups of one ``NIOHTTPHostPool``'s host: connects needed while a lookup runs share it, and a lookup
/// left unanswered for ``NIOHTTPClient/Configuration/lookupHedgeDelay`` gets another one beside it (at most
/// ``maximumConcurrentLookups`` at once); the first answer serves every waiting connect.
///
/// Why hedge: a DNS server that drops a query costs glibc its whole retry timeout (5 s by default) before it asks
/// again, and a server that restarts meanwhile can make the lookup end as "not known" after 25 s. podman's embedded
/// DNS server (aardvark-dns 1.4, Debian 12's) tears its sockets down and sets them up again whenever a container
/// joins or leaves the network, so a worker's first lookup of a provider in a Compose stack did exactly that. A
/// fresh lookup a second later is answered. A failure ends the round only when no other lookup of it is still
/// running: a name that does not exist fails at once, as before.
///
/// Each waiting connect is bounded by its own request's deadline, not by the lookups.
final class NIOHTTPHostLookup: Sendable {
    typealias Completion = @Sendable (Result<[SocketAddress], any Error>) -> Void

    /// Lookups of one host running at once, at most (each holds a thread of the blocking pool while it waits).
    static let maximumConcurrentLookups = 3

    let host: String
    let port: Int
    /// `host:port`, for the log line.
    let peer: String
    private let resolution: NIOHTTPNameResolution
    private let hedgeDelay: TimeAmount
    private let slowThreshold: TimeAmount

    private struct Waiter {
        let request: NIOHTTPRequest
        let completion: Completion
    }

    /// The lookups for the connects waiting now; ends with the first answer, or with the last lookup's failure.
    private struct Round {
        let id: Int
        let started: NIODeadline
        var waiters: [Waiter]
        var running = 0
        var lookups = 0
    }

    private struct State {
        var round: Round?
        var rounds = 0
    }

    private let state = Mutex(State())

    init(host: String, port: Int, peer: String, resolution: NIOHTTPNameResolution, hedgeDelay: Duration,
         slowThreshold: Duration) {
        self.host = host
        self.port = port
        self.peer = peer
        self.resolution = resolution
        self.hedgeDelay = .nanoseconds(max(hedgeDelay.nanosecondsTotal, 1_000_000))
        self.slowThreshold = .nanoseconds(slowThreshold.nanosecondsTotal)
    }

    /// The host's addresses for `request`'s connect, passed to `completion` once (on `loop` or a lookup's loop):
    /// the round's answer, its failure, or ``NIOHTTPNameResolution/TimedOut`` at the request's deadline.
    func resolve(for request: NIOHTTPRequest, on loop: any EventLoop, then completion: @escaping Completion) {
        let waiter = Waiter(request: request, completion: completion)
        let newRound = state.withLock { s -> Int? in
            if s.round != nil {
                s.round?.waiters.append(waiter)
                return nil
            }
            s.rounds += 1
            s.round = Round(id: s.rounds, started: .now(), waiters: [waiter])
            return s.rounds
        }
        loop.scheduleTask(deadline: request.deadline) { [self] in outlived(request) }
        if let newRound { startLookup(round: newRound, on: loop, logger: request.logger) }
    }

    /// Starts one more lookup for round `id` while connects wait for it and fewer than the maximum run; schedules
    /// the next.
    private func startLookup(round id: Int, on loop: any EventLoop, logger: Logger) {
        let start = state.withLock { s -> Bool in
            guard var round = s.round, round.id == id, !round.waiters.isEmpty,
                  round.running < Self.maximumConcurrentLookups else {
                return false
            }
            round.running += 1
            round.lookups += 1
            s.round = round
            return true
        }
        guard start else { return }
        resolution.resolve(host: host, port: port, on: loop).whenComplete { [self] result in
            finished(round: id, result, logger: logger)
        }
        loop.scheduleTask(in: hedgeDelay) { [self] in startLookup(round: id, on: loop, logger: logger) }
    }

    private func finished(round id: Int, _ result: Result<[SocketAddress], any Error>, logger: Logger) {
        let ended = state.withLock { s -> Round? in
            guard var round = s.round, round.id == id else { return nil }
            round.running -= 1
            if case .failure = result, round.running > 0 {
                // Another lookup of this round may still be answered.
                s.round = round
                return nil
            }
            s.round = nil
            return round
        }
        guard let round = ended else { return }
        let took = NIODeadline.now() - round.started
        if took >= slowThreshold {
            logger.info("provider host lookup slow", metadata: [
                NIOHTTPLoggingKeys.peer: "\(peer)",
                NIOHTTPLoggingKeys.durationMilliseconds: "\(took.nanoseconds / 1_000_000)",
                NIOHTTPLoggingKeys.outcome: "\(NIOHTTPLoggingKeys.outcome(of: result))",
                NIOHTTPLoggingKeys.lookups: "\(round.lookups)",
            ])
        }
        for waiter in round.waiters { waiter.completion(result) }
    }

    /// `request`'s deadline passed: if it still waits for the host's addresses, it fails (not sent).
    private func outlived(_ request: NIOHTTPRequest) {
        let waiter = state.withLock { s -> Waiter? in
            guard let index = s.round?.waiters.firstIndex(where: { $0.request === request }) else { return nil }
            return s.round?.waiters.remove(at: index)
        }
        waiter?.completion(.failure(NIOHTTPNameResolution.TimedOut(host: host)))
    }
}
