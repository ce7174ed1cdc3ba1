// swift-tools-version:6.1
import PackageDescription

// PayBridge: payment commands in over RabbitMQ, provider calls out over HTTP, outcome events back.
// One module per concern (see README "Layout"). Only `AMQP` may import the C modules.

let package = Package(
    name: "PayBridge",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "paybridge", targets: ["PayBridgeCLI"]),
        .executable(name: "amqp-bench", targets: ["AMQPBench"]),
        .executable(name: "paybridge-bench", targets: ["PayBridgeBench"]),
        .executable(name: "paybridge-profile", targets: ["PayBridgeProfile"]),
        .library(name: "AMQP", targets: ["AMQP"]),
        .executable(name: "paybridge-sandbox", targets: ["ProviderSandboxServer"]),
    ],
    // `OTLPExporter` (off by default): `paybridge` exports spans over OTLP/HTTP through swift-otel when the OTEL_*
    // environment asks for it. Off, swift-otel is not built (it costs minutes of build time, see docs/operations.md)
    // and PayBridge still propagates W3C trace context and logs trace ids.
    traits: [
        .trait(name: "OTLPExporter", description: "Export spans over OTLP/HTTP with swift-otel (OTEL_* settings)."),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-distributed-tracing.git", from: "1.7.3"),
        .package(url: "https://github.com/swift-otel/swift-otel.git", from: "1.6.0", traits: ["OTLPHTTP"]),
    ],
    targets: [
        // --- C: librabbitmq (Debian librabbitmq-dev 0.11) and the few shims Swift cannot call directly.
        .systemLibrary(
            name: "CRabbitMQ",
            pkgConfig: "librabbitmq",
            providers: [.apt(["librabbitmq-dev"]), .brew(["rabbitmq-c"])]
        ),
        .target(name: "CRabbitMQShims", dependencies: ["CRabbitMQ"]),

        // --- AMQP messages as plain values (properties, field tables, errors, encoded sizes): no C, no connection.
        .target(name: "AMQPValues"),
        // --- AMQP client over librabbitmq.
        .target(
            name: "AMQP",
            dependencies: [
                "CRabbitMQ", "CRabbitMQShims", "AMQPValues",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // --- A strict JSON library: one parser (bounded by JSONLimits, duplicate keys refused) and writer, JSONValue
        // with exact numbers. No dependencies.
        .target(name: "StrictJSON"),
        // --- The words both sides share: payment status, provider, error classes and codes, amounts, ProviderResult.
        .target(name: "PaymentVocabulary", dependencies: ["StrictJSON"]),

        // --- W3C trace context and spans: PayBridge's own tracer, used when no exporter is configured.
        .target(
            name: "PayBridgeTracing",
            dependencies: [.product(name: "Tracing", package: "swift-distributed-tracing")]
        ),

        // --- Payment providers.
        .target(
            name: "ProviderCore",
            dependencies: [
                "PaymentVocabulary",
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                // TLS of the NIO transport prototype (already in the graph through AsyncHTTPClient).
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
            ]
        ),
        .target(
            name: "Amanpay",
            dependencies: [
                "ProviderCore", "PaymentVocabulary", "StrictJSON",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "FirstPay",
            dependencies: [
                "ProviderCore", "PaymentVocabulary", "StrictJSON",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "ProviderSandbox",
            dependencies: [
                "ProviderCore", "Amanpay", "FirstPay", "PaymentVocabulary", "StrictJSON",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),

        .executableTarget(
            name: "ProviderSandboxServer",
            dependencies: [
                "ProviderSandbox", "ProviderCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),

        // --- The adapter.
        // The JSON Schemas in `schemas/` are compiled in at build time by the EmbedSchemas plugin (generated
        // `EmbeddedSchemas.swift`, never in git); EmbedSchemasTool is the host executable the plugin runs.
        .target(
            name: "PayBridgeContract",
            dependencies: ["PaymentVocabulary", "StrictJSON", .product(name: "Crypto", package: "swift-crypto")],
            plugins: ["EmbedSchemas"]
        ),
        .plugin(name: "EmbedSchemas", capability: .buildTool(), dependencies: ["EmbedSchemasTool"]),
        .executableTarget(name: "EmbedSchemasTool"),
        .target(
            name: "PayBridge",
            dependencies: [
                "AMQP", "ProviderCore", "Amanpay", "FirstPay", "PayBridgeContract", "PayBridgeRules", "PayBridgeTracing",
                "PayBridgeTopology", "PaymentVocabulary", "StrictJSON",
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                // The HTTP request/response parts Hummingbird's channel pipeline carries (HTTP listener limits).
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            ]
        ),
        // The worker's decisions, as values: the message formats (commands, notifications, checks, retries, dead
        // letters, headers), the rules that turn a delivery and what happened into a plan, and the state the worker
        // keeps between deliveries. No connection, HTTP, logger or metrics in reach; the time is an argument.
        .target(
            name: "PayBridgeRules",
            dependencies: ["AMQPValues", "PaymentVocabulary", "PayBridgeContract", "StrictJSON"]
        ),
        // The broker topology (`BrokerSetup`: declare it, print it as a definitions file; the history stream's
        // retention) and the tools' error type: shared by the service, the CLI, the tools and the bench.
        .target(
            name: "PayBridgeTopology",
            dependencies: [
                "AMQP", "PayBridgeContract", "PaymentVocabulary", "StrictJSON",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Operator tools (`send`, dead-letter inspection and replay, event printing): outside the worker module.
        .target(
            name: "PayBridgeTools",
            dependencies: [
                "AMQP", "PayBridgeTopology", "PayBridgeContract", "PayBridgeTracing", "StrictJSON",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "PayBridgeCLI",
            dependencies: [
                "PayBridge", "PayBridgeTools", "PayBridgeTopology", "PayBridgeContract", "AMQP",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "OTel", package: "swift-otel", condition: .when(traits: ["OTLPExporter"])),
                .product(name: "Logging", package: "swift-log"),
            ],
            // gperftools' tcmalloc (Debian's libgoogle-perftools-dev) replaces glibc's malloc in the service: with
            // 200 commands in flight, allocations made on one thread and freed on another cost glibc about 10 %
            // more worker CPU per command (docs/benchmarks-budget.md, "System calls and the allocator").
            linkerSettings: [.linkedLibrary("tcmalloc_minimal", .when(platforms: [.linux]))]
        ),
        .executableTarget(
            name: "PayBridgeBench",
            dependencies: [
                "BenchSupport", "AMQP", "PayBridge", "PayBridgeContract", "PayBridgeTopology", "ProviderCore", "StrictJSON",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The command both benchmark executables publish.
        .target(name: "BenchSupport", dependencies: ["PayBridgeContract", "StrictJSON"]),
        // `make bench-profile`: allocations and CPU time per command, stage by stage. CAllocationCounter defines
        // malloc and friends (counting, then glibc's own): linked into paybridge-profile and nothing else.
        .target(name: "CAllocationCounter"),
        .executableTarget(
            name: "PayBridgeProfile",
            dependencies: [
                "CAllocationCounter", "BenchSupport", "AMQP", "Amanpay", "PayBridge", "PayBridgeContract", "PayBridgeRules",
                "PayBridgeTopology", "PayBridgeTracing", "PaymentVocabulary", "ProviderCore", "StrictJSON",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ]
        ),
        .executableTarget(
            name: "AMQPBench",
            dependencies: ["AMQP", .product(name: "Logging", package: "swift-log")]
        ),

        // Test support: awaiting `rabbitmqctl` without blocking the cooperative pool; relays in front of the broker
        // (plain TCP to cut a link, TLS to test `amqps://` without reconfiguring the shared broker).
        .target(
            name: "BrokerTestKit",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),

        // Test support without a broker: command deliveries as a worker receives them, a Prometheus text parser.
        .target(
            name: "PayBridgeTestKit",
            dependencies: ["PayBridgeRules", "PayBridgeContract", "PaymentVocabulary", "AMQPValues"]
        ),

        // --- Tests. Integration tests need the broker that `make test` starts; they never skip.
        .testTarget(name: "AMQPTests", dependencies: ["AMQP", "BrokerTestKit"]),
        // Broker-free: the connection's state machines, confirm ledger and consumer bookkeeping as plain values.
        .testTarget(name: "AMQPUnitTests", dependencies: ["AMQP"]),
        .testTarget(
            name: "ProviderTests",
            dependencies: [
                "ProviderCore", "Amanpay", "FirstPay", "ProviderSandbox", "PaymentVocabulary", "StrictJSON",
                // TLSRelay and TestCertificates for the transports' https tests; PayBridge's tracer for trace headers.
                "BrokerTestKit", "PayBridgeTracing",
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        .testTarget(name: "ContractTests", dependencies: ["PayBridgeContract", "PaymentVocabulary", "StrictJSON"]),
        // Broker-free: the worker's rules and the state it keeps between deliveries, as plain values.
        .testTarget(
            name: "PayBridgeRulesTests",
            dependencies: ["PayBridgeRules", "PayBridgeContract", "PaymentVocabulary", "StrictJSON", "AMQPValues",
                           "PayBridgeTestKit", "PayBridgeTools", "FirstPay"]
        ),
        // Broker-free: the service around the rules (command processor with test doubles, callback and admin
        // routers, settings, logs, metrics) and the tools' options.
        .testTarget(
            name: "PayBridgeUnitTests",
            dependencies: [
                "PayBridge", "PayBridgeRules", "PayBridgeContract", "PayBridgeTopology", "PayBridgeTools", "AMQP",
                "PayBridgeTracing", "PayBridgeTestKit", "ProviderCore", "Amanpay", "FirstPay", "PaymentVocabulary",
                "StrictJSON",
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "PayBridgeTests",
            dependencies: [
                "PayBridge", "PayBridgeRules", "PayBridgeTools", "PayBridgeTopology", "ProviderSandbox", "AMQP",
                "PayBridgeContract", "BrokerTestKit", "PayBridgeTestKit", "PaymentVocabulary", "StrictJSON",
                "ProviderCore", "Amanpay", "FirstPay",
                "PayBridgeTracing", .product(name: "Tracing", package: "swift-distributed-tracing"),
                // Raw TCP clients for the HTTP listener tests.
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                // `app.test(.router)` for the callback and admin routers.
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]
        ),
    ]
)

// Plugins take no settings (their sources are compiled as the tools version's language mode, Swift 6).
for target in package.targets where target.type != .system && target.type != .plugin {
    var settings = target.swiftSettings ?? []
    settings.append(.swiftLanguageMode(.v6))
    settings.append(.enableUpcomingFeature("ExistentialAny"))
    target.swiftSettings = settings
}
