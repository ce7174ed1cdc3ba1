import ArgumentParser
import Foundation
import Logging
import PayBridge
import ServiceLifecycle

/// Options shared by `worker`, `callbacks` and `run`.
struct RuntimeOptions: ParsableArguments {
    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical (default: PAYBRIDGE_LOG_LEVEL or info).")
    var logLevel: String?
}

/// Starts a ``PayBridgeRuntime`` from the environment and serves until SIGTERM/SIGINT (exit 0 after draining).
/// A configuration problem prints one line naming the setting and exits 2; a broker problem exits 1.
enum RuntimeLauncher {
    static func run(role: PayBridgeRuntime.Role, options: RuntimeOptions) async throws {
        let levelText = options.logLevel ?? ProcessInfo.processInfo.environment["PAYBRIDGE_LOG_LEVEL"] ?? "info"
        guard let level = Logger.Level(rawValue: levelText.lowercased()) else {
            fail("configuration: PAYBRIDGE_LOG_LEVEL / --log-level: unknown level \"\(levelText)\"", code: 2)
        }
        LoggingSystem.bootstrap { label in
            // Escapes what comes from outside (command ids, routing keys, …): no value can forge a log line.
            var handler = PlainTextLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        var logger = Logger(label: "paybridge")
        logger.logLevel = level
        var configuration: PayBridgeConfiguration
        var services: [any Service] = []
        do {
            configuration = try PayBridgeConfiguration.fromEnvironment()
        } catch {
            fail("\(error)", code: 2)
        }
        applyCPUScheduling(configuration.cpuScheduling, role: role, logger: logger)
        if let loops = HTTPEventLoops.apply(configuration.httpEventLoops, role: role,
                                            environment: ProcessInfo.processInfo.environment) {
            logger.info("HTTP event loops set", metadata: ["loops": "\(loops)"])
        }
        do {
            if let export = try TraceExport.make(ProcessInfo.processInfo.environment, logger: logger) {
                configuration.tracer = export.tracer
                services.append(export.service)
            }
        } catch {
            fail("configuration: OTEL_*: \(error)", code: 2)
        }
        let runtime: PayBridgeRuntime
        do {
            runtime = try await PayBridgeRuntime.start(configuration: configuration, role: role, logger: logger,
                                                       additionalServices: services)
        } catch let error as ConfigurationError {
            fail("\(error)", code: 2)
        } catch {
            fail("cannot start: \(error) (broker \(configuration.amqp.redactedURL), set by PAYBRIDGE_AMQP_URL)", code: 1)
        }
        do {
            try await runtime.run()
        } catch {
            fail("stopped with an error: \(error)", code: 1)
        }
    }

    /// Sets `PAYBRIDGE_CPU_SCHEDULING` (or the role's default, if it has one) on every thread. A refusal is logged,
    /// not fatal.
    static func applyCPUScheduling(_ setting: CPUScheduling?, role: PayBridgeRuntime.Role, logger: Logger) {
        guard let scheduling = setting ?? .default(for: role) else { return }
        do {
            let threads = try scheduling.applyToAllThreads()
            logger.info("CPU scheduling set", metadata: ["scheduling": "\(scheduling)", "threads": "\(threads)"])
        } catch {
            logger.warning("CPU scheduling left as it was; set PAYBRIDGE_CPU_SCHEDULING=normal to silence this",
                           metadata: ["scheduling": "\(scheduling)", "error": "\(error)"])
        }
    }

    static func fail(_ message: String, code: Int32) -> Never {
        FileHandle.standardError.write(Data("paybridge: \(message)\n".utf8))
        exit(code)
    }
}
