import Foundation
import NIOCore
import NIOPosix
import NIOSSL

/// A TLS endpoint in front of the broker, for tests of `amqps://`: it terminates TLS with the given certificate and
/// relays the plaintext to the broker's AMQP port on loopback. The shared broker keeps its configuration (it has no
/// TLS listener), and a test picks the certificate it needs (right CA, wrong CA, wrong host name).
///
/// Listens on an ephemeral port on 127.0.0.1. Call ``stop()`` when done.
public final class TLSRelay: Sendable {
    /// The port to connect to with `amqps://127.0.0.1:<port>` (or `localhost`).
    public let port: Int
    private let listener: any Channel
    private let group: MultiThreadedEventLoopGroup

    private init(port: Int, listener: any Channel, group: MultiThreadedEventLoopGroup) {
        self.port = port
        self.listener = listener
        self.group = group
    }

    /// Starts relaying.
    /// - Parameters:
    ///   - certificateChainPath: PEM server certificate (chain) the relay presents.
    ///   - privateKeyPath: PEM private key of that certificate.
    ///   - brokerPort: the broker's plain AMQP port on 127.0.0.1.
    ///   - clientCAPath: when set, a client must present a certificate this PEM CA signed (mutual TLS), else the
    ///     handshake fails.
    public static func start(certificateChainPath: String, privateKeyPath: String, brokerPort: Int = 5672,
                             clientCAPath: String? = nil) async throws -> TLSRelay
    {
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(certificateChainPath).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: privateKeyPath, format: .pem)))
        if let clientCAPath {
            configuration.certificateVerification = .noHostnameVerification
            configuration.trustRoots = .file(clientCAPath)
        }
        let context = try NIOSSLContext(configuration: configuration)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        do {
            let listener = try await ServerBootstrap(group: group)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { client in
                    client.eventLoop.makeCompletedFuture {
                        let toBroker = RelayHandler()
                        try client.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
                        try client.pipeline.syncOperations.addHandler(toBroker)
                        ClientBootstrap(group: client.eventLoop)
                            .channelInitializer { broker in
                                broker.eventLoop.makeCompletedFuture {
                                    try broker.pipeline.syncOperations.addHandler(RelayHandler(partner: client))
                                }
                            }
                            .connect(host: "127.0.0.1", port: brokerPort)
                            .assumeIsolated()
                            .whenComplete { result in
                                switch result {
                                case .success(let broker): toBroker.attach(broker)
                                case .failure: client.close(promise: nil)
                                }
                            }
                    }
                }
                .bind(host: "127.0.0.1", port: 0).get()
            guard let port = listener.localAddress?.port else { throw ChannelError.unknownLocalAddress }
            return TLSRelay(port: port, listener: listener, group: group)
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
    }

    /// Stops listening and closes every relayed connection.
    public func stop() async throws {
        try? await listener.close()
        try await group.shutdownGracefully()
    }
}

/// Writes everything its channel reads to the partner channel (holding it until the partner is attached); closes
/// the partner when its channel closes. Both channels of a pair share one event loop, where all of this runs.
private final class RelayHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    private var partner: (any Channel)?
    private var held: [ByteBuffer] = []
    private var closed = false

    init(partner: (any Channel)? = nil) { self.partner = partner }

    /// The broker connection is up: send what the client sent meanwhile.
    func attach(_ partner: any Channel) {
        guard !closed else {
            partner.close(promise: nil)
            return
        }
        self.partner = partner
        for buffer in held { partner.write(buffer, promise: nil) }
        held.removeAll()
        partner.flush()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        if let partner { partner.writeAndFlush(buffer, promise: nil) } else { held.append(buffer) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        closed = true
        partner?.close(promise: nil)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
