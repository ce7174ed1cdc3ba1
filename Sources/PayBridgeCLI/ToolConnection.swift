import AMQP
import ArgumentParser
import Foundation
import Logging
import PayBridge
import PayBridgeTopology

/// What the operator tools (`topology`, `send`, `dead-letters`) share: the broker URL (or comma-separated node
/// list) from the environment, a connection with errors an operator can act on, and error printing without stack
/// traces.
enum ToolConnection {
    /// Used when `PAYBRIDGE_AMQP_URL` is not set.
    static let defaultURL = EnvironmentSettings.defaultAMQPURL

    /// The broker configuration from `PAYBRIDGE_AMQP_URL`, or from the file named by `PAYBRIDGE_AMQP_URL_FILE`,
    /// else ``defaultURL``: read by ``EnvironmentSettings``, as the worker reads it.
    /// - Returns: the configuration, and which setting it came from (for messages).
    /// - Throws: ``PayBridgeToolError`` naming the variable when the URL is invalid, the file unreadable, or both
    ///   variables are set.
    static func configuration(tool: String) throws -> (configuration: AMQPConfiguration, source: String) {
        let settings = EnvironmentSettings()
        var configuration: AMQPConfiguration
        let source: String
        do {
            (configuration, source) = try settings.amqpConfiguration()
        } catch {
            throw PayBridgeToolError("\(error.setting): \(error.problem)", underlying: error)
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
                let users = configuration.nodes.map(\.user).reduce(into: [String]()) { users, user in
                    if !users.contains(user) { users.append(user) }
                }
                throw PayBridgeToolError("cannot connect to RabbitMQ at \(configuration.endpointList), vhost "
                    + "\(configuration.virtualHost), user \(users.joined(separator: ", ")) (set by \(source)): "
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
