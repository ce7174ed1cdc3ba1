import NIOCore

/// `PAYBRIDGE_HTTP_EVENT_LOOPS`: how many event loops (threads) the process's NIO group has. They carry every
/// provider connection, the admin listener and, in `callbacks` and `run`, the callback listener.
///
/// A `worker`'s default is half the cores NIO counts (its container's CPU limit where it has one), at least one:
/// its event loops only write requests and read responses, while decoding, signing, verifying and building events
/// run on the Swift pool, and every extra loop is one more thread to wake. On this project's 2-core benchmark one
/// loop instead of two saved about a twentieth of the worker's CPU per command and a quarter of its voluntary
/// context switches (docs/benchmarks.md, "HTTP event loops"). `callbacks` and `run` keep NIO's default (one loop per
/// core, or `NIO_SINGLETON_GROUP_LOOP_COUNT`), as does a worker started with `NIO_SINGLETON_GROUP_LOOP_COUNT` set.
public enum HTTPEventLoops {
    /// The values `PAYBRIDGE_HTTP_EVENT_LOOPS` accepts.
    public static let allowed = 1...256

    /// The default of a role on `cores` cores: half of them (at least one) for a worker; `nil` (NIO's own
    /// default) for `callbacks` and `run`.
    public static func `default`(for role: PayBridgeRuntime.Role, cores: Int = System.coreCount) -> Int? {
        role == .worker ? max(1, cores / 2) : nil
    }

    /// Sizes NIO's shared event loop group: `setting`, else the role's default unless `NIO_SINGLETON_GROUP_LOOP_COUNT`
    /// is in `environment`. Call it once, before anything uses the group (later it has no effect). Returns the
    /// number set, or `nil` when NIO chooses.
    public static func apply(_ setting: Int?, role: PayBridgeRuntime.Role, environment: [String: String]) -> Int? {
        let loops = setting ?? (environment["NIO_SINGLETON_GROUP_LOOP_COUNT"] == nil ? Self.default(for: role) : nil)
        guard let loops else { return nil }
        NIOSingletons.groupLoopCountSuggestion = loops
        return loops
    }
}
