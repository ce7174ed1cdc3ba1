import AMQP
import ArgumentParser
import Foundation
import Logging
import PayBridge

/// What the operator tools (`topology`, `send`, `dead-letters`) share: the broker URL from the environment, a
/// connection with errors an operator can act on, and error printing without stack traces.
enum ToolConnection {
    /// The environment variable naming the broker.
    static let urlVariable = "PAYBRIDGE_AMQP_URL"
    /// Used when ``urlVariable`` is not set.
    static let defaultURL = "amqp://guest:guest@127.0.0.1:5672/%2F"

    /// The broker configuration from `PAYBRIDGE_AMQP_URL`, or from the file named by `PAYBRIDGE_AMQP_URL_FILE`
    /// (the URL holds a password; the `…_FILE` variant keeps it out of the environment), else ``defaultURL``.
    /// - Returns: the configuration, and which setting it came from (for messages).
    /// - Throws: ``PayBridgeToolError`` naming the variable when the URL is invalid, the file unreadable, or both
    ///   variables are set.
    static func configuration(tool: String) throws -> (configuration: AMQPConfiguration, source: String) {
        let environment = ProcessInfo.processInfo.environment
        let fileVariable = urlVariable + "_FILE"
        let direct = environment[urlVariable].flatMap { $0.isEmpty ? nil : $0 }
        let path = environment[fileVariable].flatMap { $0.isEmpty ? nil : $0 }
        let url: String
        let source: String
        switch (direct, path) {
        case (.some, .some):
            throw PayBridgeToolError("both \(urlVariable) and \(fileVariable) are set; set only one")
        case (.some(let value), nil):
            (url, source) = (value, urlVariable)
        case (nil, .some(let path)):
            guard let data = FileManager.default.contents(atPath: path) else {
                throw PayBridgeToolError("\(fileVariable): cannot read \(path)")
            }
            (url, source) = (String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines),
                             "\(fileVariable) (\(path))")
        case (nil, nil):
            (url, source) = (defaultURL, "the default of \(urlVariable)")
        }
        var configuration: AMQPConfiguration
        do { configuration = try AMQPConfiguration(url: url) } catch let error as AMQPError {
            throw PayBridgeToolError("\(source) is invalid: \(error.message)", underlying: error)
        }
        configuration.connectionName = "paybridge-\(tool)"
        // A tool should fail, not hang, when the broker goes away.
        configuration.reconnect.maximumAttempts = 3
        return (configuration, source)
    }

    /// Connects, runs `body` with the connection and the tool's logger (debug with `--verbose`), closes; every
    /// error is printed as one line naming the setting where that helps, and becomes exit code 1.
    static func run<R>(tool: String, verbose: Bool,
                       _ body: (AMQPConnection, Logger) async throws -> R) async throws -> R {
        var logger = Logger(label: "paybridge.\(tool)")
        logger.logLevel = verbose ? .debug : .error
        let connection: AMQPConnection
        do {
            let (configuration, source) = try configuration(tool: tool)
            do {
                connection = try await AMQPConnection.connect(configuration, logger: logger)
            } catch let error as AMQPError {
                throw PayBridgeToolError("cannot connect to RabbitMQ at \(configuration.endpoint), vhost "
                    + "\(configuration.virtualHost), user \(configuration.user) (set by \(source)): "
                    + error.message, underlying: error)
            }
        } catch {
            printError(error, verbose: verbose)
            throw ExitCode.failure
        }
        do {
            let result = try await body(connection, logger)
            await connection.close()
            return result
        } catch let exit as ExitCode {
            await connection.close()
            throw exit
        } catch {
            await connection.close()
            printError(error, verbose: verbose)
            throw ExitCode.failure
        }
    }

    /// Prints `paybridge: error: …` on standard error.
    static func printError(_ error: any Error, verbose: Bool = false) {
        printError(verbose ? String(reflecting: error) : String(describing: error))
    }

    /// Prints `paybridge: error: <message>` on standard error.
    static func printError(_ message: String) {
        FileHandle.standardError.write(Data("paybridge: error: \(message)\n".utf8))
    }
}
