import ArgumentParser
import Foundation
import PayBridge
import PayBridgeTools
import PayBridgeTopology

/// `paybridge send`: publishes one command (a CloudEvent JSON file, or standard input) to `payments.commands`
/// and optionally waits for its outcome events.
struct SendCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "send",
        abstract: "Publish a payment command (CloudEvent JSON) and optionally wait for its events.",
        discussion: """
            The routing key comes from the CloudEvent type (paybridge.amanpay.purchase.v1 → amanpay.purchase). \
            With --wait, the events correlated to the command id (and callbacks for the same paymentId) are \
            printed until one is final or a command.failed or payment.unresolved arrives. Exit status: 0 sent / \
            final event received, 1 error, 3 timed out waiting, 4 unresolved (still open after the last \
            reconciliation check).
            """
    )

    @Argument(help: "The command file; '-' or nothing reads standard input.")
    var file = "-"

    @Flag(help: "Wait for the command's events and print them.")
    var wait = false

    @Option(help: "With --wait: the longest wait for a final event, in seconds.")
    var timeout: Double = 30

    @Option(help: "Use this routing key instead of the one derived from the type (e.g. to test invalid commands).")
    var routingKey: String?

    @Flag(help: "With --wait: print each event's JSON body on one line instead of a readable summary.")
    var json = false

    @Flag(name: .shortAndLong, help: "Log the AMQP client's debug output.")
    var verbose = false

    func validate() throws {
        guard timeout > 0 else { throw ValidationError("--timeout must be greater than 0") }
    }

    func run() async throws {
        let body: [UInt8]
        do {
            body = try readBody()
        } catch {
            ToolConnection.printError(error)
            throw ExitCode.failure
        }
        let json = self.json
        let exitCode = try await ToolConnection.run(tool: "send", verbose: verbose) { connection, logger -> Int32 in
            let sender = CommandSender(connection: connection, logger: logger)
            guard wait else {
                let sent = try await sender.send(body, routingKey: routingKey)
                print("sent " + Self.describe(sent, exchange: sender.exchange))
                return 0
            }
            // With --json, standard output carries only the events; the narration goes to standard error.
            let note: (String) -> Void = { line in
                if json { FileHandle.standardError.write(Data((line + "\n").utf8)) } else { print(line) }
            }
            let preview = try CommandSender.inspect(body, routingKey: routingKey)
            note("sending " + Self.describe(preview, exchange: sender.exchange))
            note("waiting up to \(Self.seconds(timeout)) for its events…\n")
            let result = try await sender.sendAndWait(
                body, routingKey: routingKey, timeout: .milliseconds(Int64(timeout * 1000)),
                traceparent: preview.traceparent
            ) { event in
                print(json ? String(decoding: event.body, as: UTF8.self) : EventPrinter.describe(event) + "\n")
            }
            switch result.completion {
            case .final:
                note("final: \(result.events.last?.status ?? "?") (\(result.events.count) event(s))")
            case .commandFailed:
                note("command failed (\(result.events.count) event(s))")
            case .unresolved:
                note("unresolved: still \(result.events.last?.status ?? "?") after PayBridge's last reconciliation "
                     + "check (\(result.events.count) event(s))")
                return 4
            case .timedOut:
                let last = result.events.last?.status.map { ", last status \($0)" } ?? ""
                note("no final event within \(Self.seconds(timeout)) (\(result.events.count) event(s)\(last))")
                return 3
            }
            return 0
        }
        if exitCode != 0 { throw ExitCode(exitCode) }
    }

    private func readBody() throws -> [UInt8] {
        if file == "-" {
            return Array(FileHandle.standardInput.readDataToEndOfFile())
        }
        guard let data = FileManager.default.contents(atPath: file) else {
            throw PayBridgeToolError("cannot read the command file \(file)")
        }
        return Array(data)
    }

    static func describe(_ sent: CommandSender.SentCommand, exchange: String) -> String {
        "\(sent.commandId ?? "(no id)") (\(sent.type ?? "not a CloudEvent")) to \(exchange) with key \(sent.routingKey)"
            + "\ntrace id \(sent.traceId)"
    }

    static func seconds(_ value: Double) -> String {
        value == value.rounded() ? "\(Int(value)) s" : "\(value) s"
    }
}
