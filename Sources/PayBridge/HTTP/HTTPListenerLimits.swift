/// What one HTTP listener allows each connection: PAYBRIDGE_HTTP_MAX_CONNECTIONS,
/// PAYBRIDGE_HTTP_MAX_CONNECTIONS_PER_CLIENT, PAYBRIDGE_HTTP_IDLE_TIMEOUT_SECONDS and the request body limit. Both listeners (callbacks and admin) enforce them, each with its own count.
struct HTTPListenerLimits: Sendable {
    /// Connections open at once; one more is closed as soon as it is accepted.
    var maximumConnections: Int
    /// Connections open at once from one client address (``ClientAddress``: an IPv4 address, an IPv6 /64); one
    /// more from it is closed as soon as it is accepted, while other clients are still served.
    var maximumConnectionsPerClient: Int = 64
    /// Longest time for one request to arrive completely (head and body), counted from the moment the connection
    /// starts waiting for it: accepted, or the previous response written. It bounds idle keep-alive connections and
    /// requests trickled a byte at a time (slowloris) alike; a connection past it is closed.
    var requestReadTimeout: Duration
    /// Request bodies larger than this are refused with 413: at once when `Content-Length` announces it, as soon as
    /// the bytes read exceed it otherwise (chunked).
    var maximumRequestBodyBytes: Int
}
