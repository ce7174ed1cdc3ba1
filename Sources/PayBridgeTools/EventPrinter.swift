import Foundation
import PayBridgeContract
import PayBridgeTracing
import StrictJSON

/// Readable text for outcome events and dead letters, for `paybridge send --wait`, `paybridge dead-letters list`
/// and the demo. One block per item: a headline, then indented `label  value` lines; absent values are left out.
public enum EventPrinter {
    /// Describes an outcome event.
    ///
    /// ```
    /// paybridge.payment.response.v1  amanpay.purchase.response
    ///   event      7c1e…   command 01JD3Q7ZK8V6M2W4X9T5R1N0PA
    ///   payment    payment_812 → provider 62861
    ///   status     requires_action (provider REDIRECT, not final)
    ///   amount     250.51 BDT
    ///   redirect   https://sandbox.example/pay/62861
    /// ```
    /// - Parameter event: the event.
    /// - Returns: lines separated by `\n`, no trailing newline.
    public static func describe(_ event: ReceivedEvent) -> String {
        guard let cloudEvent = event.event else {
            return "\(event.properties.type ?? "(not a CloudEvent)")  \(event.routingKey)\n"
                + "  body       \(String(decoding: event.body.prefix(500), as: UTF8.self))"
        }
        let data = cloudEvent.data
        func text(_ key: String) -> String? { Self.text(data?[key]) }
        var lines = ["\(cloudEvent.type)  \(event.routingKey)"]
        var ids = "event \(cloudEvent.id)"
        if let commandId = text("commandId") ?? event.properties.correlationId { ids += "   command \(commandId)" }
        lines.append(row("ids", ids))
        if let traceId = (cloudEvent.extensions["traceparent"]?.stringValue).flatMap({ TraceContext(traceparent: $0)?.traceID }) {
            lines.append(row("trace id", traceId))
        }
        if let provider = text("provider") {
            lines.append(row("provider", provider + (text("operation").map { " \($0)" } ?? "")))
        }
        if text("paymentId") != nil || text("providerPaymentId") != nil {
            lines.append(row("payment", "\(text("paymentId") ?? "-") → provider \(text("providerPaymentId") ?? "-")"))
        }
        if let status = text("status") {
            var details: [String] = []
            if let providerStatus = text("providerStatus") { details.append("provider \(providerStatus)") }
            if let final = data?["final"]?.boolValue { details.append(final ? "final" : "not final") }
            if let attempts = text("attempts") { details.append("attempts \(attempts)") }
            lines.append(row("status", status + (details.isEmpty ? "" : " (\(details.joined(separator: ", ")))")))
        }
        if let amount = text("amount") {
            lines.append(row("amount", amount + (text("currency").map { " \($0)" } ?? "")))
        }
        if let error = data?["error"], !error.isNull {
            let code = error["code"]?.stringValue ?? "-"
            let errorClass = error["class"]?.stringValue ?? "-"
            let message = error["message"]?.stringValue ?? ""
            lines.append(row("error", "\(code) [\(errorClass)] \(message)"))
        }
        if let check = data?["reconciliation"], let number = check["check"]?.numberValue,
            let of = check["of"]?.numberValue
        {
            lines.append(row("reconciled", "status check \(number.text) of \(of.text), open since "
                             + "\(check["openSince"]?.stringValue ?? "-")"))
        }
        if cloudEvent.type == OutcomeEvents.unresolvedType {
            lines.append(row("unresolved", "still open after \(text("checks") ?? "?") status checks "
                             + "(schedule \(text("schedule") ?? "-"), open since \(text("openSince") ?? "-"))"))
        }
        if let redirect = text("redirectUrl") { lines.append(row("redirect", redirect)) }
        if let fields = data?["additionalFields"], !fields.isNull {
            lines.append(row("fields", fields.serializedString))
        }
        if let time = cloudEvent.time { lines.append(row("time", time)) }
        return lines.joined(separator: "\n")
    }

    /// One line for an outcome event, for `paybridge events replay`: time, type, routing key, then what
    /// ``describe(_:)-(ReceivedEvent)`` shows first (account, payment, status, error, event id), two spaces apart;
    /// absent values are left out.
    ///
    /// ```
    /// 2026-12-06T10:00:01.250Z  paybridge.payment.response.v1  amanpay.purchase.response  account default  payment payment_812 → provider 62861  status succeeded (final)  event 7c1e…
    /// ```
    public static func line(_ event: ReceivedEvent) -> String {
        guard let cloudEvent = event.event else {
            return "\(event.properties.type ?? "(not a CloudEvent)")  \(event.routingKey)  \(event.body.count) bytes"
        }
        let data = cloudEvent.data
        func text(_ key: String) -> String? { Self.text(data?[key]) }
        var parts = [cloudEvent.time ?? event.properties.timestamp.map { RFC3339.string(secondsSince1970: $0) } ?? "-",
                     cloudEvent.type, event.routingKey]
        if let account = text("account") { parts.append("account \(account)") }
        if text("paymentId") != nil || text("providerPaymentId") != nil {
            parts.append("payment \(text("paymentId") ?? "-") → provider \(text("providerPaymentId") ?? "-")")
        }
        if let status = text("status") {
            let final = data?["final"]?.boolValue.map { $0 ? " (final)" : " (not final)" } ?? ""
            parts.append("status \(status)\(final)")
        }
        if let error = data?["error"], !error.isNull {
            parts.append("error \(error["code"]?.stringValue ?? "-") [\(error["class"]?.stringValue ?? "-")]")
        }
        parts.append("event \(cloudEvent.id)")
        return parts.joined(separator: "  ")
    }

    /// A data member as one word of text: a string, a number's literal, other JSON as written; `nil` for null.
    private static func text(_ value: JSONValue?) -> String? {
        guard let value else { return nil }
        if let string = value.stringValue { return string }
        if let number = value.numberValue { return number.text }
        return value.isNull ? nil : value.serializedString
    }

    /// Describes a dead letter: id and type, PayBridge's reason headers, attempt, routing keys and `x-death`.
    /// - Parameters:
    ///   - deadLetter: the dead letter.
    ///   - index: its 1-based position in the queue, shown in the headline.
    /// - Returns: lines separated by `\n`, no trailing newline.
    public static func describe(_ deadLetter: DeadLetter, index: Int? = nil) -> String {
        var headline = index.map { "#\($0) " } ?? ""
        headline += deadLetter.id ?? "(no id)"
        headline += "  " + (deadLetter.type ?? "(not a CloudEvent)")
        var lines = [headline]
        if deadLetter.reason != nil || deadLetter.code != nil {
            lines.append(row("reason", [deadLetter.reason, deadLetter.code].compactMap { $0 }.joined(separator: " / ")))
        }
        if let detail = deadLetter.detail { lines.append(row("detail", detail)) }
        lines.append(row("attempt", deadLetter.attempt.map(String.init) ?? "1"))
        var routing = deadLetter.originalRoutingKey ?? deadLetter.routingKey
        if let replay = deadLetter.replayRoutingKey, replay != routing { routing += " (replays as \(replay))" }
        if deadLetter.replayRoutingKey == nil { routing += " (cannot be replayed: no command routing key)" }
        lines.append(row("routing", routing))
        if let sourceQueue = deadLetter.sourceQueue { lines.append(row("from", sourceQueue)) }
        if let at = deadLetter.deadLetteredAt { lines.append(row("at", at)) }
        if let failedEventId = deadLetter.failedEventId { lines.append(row("failed event", failedEventId)) }
        if let traceId = deadLetter.traceId { lines.append(row("trace id", traceId)) }
        for death in deadLetter.deaths {
            var text = "\(death.reason ?? "?") in \(death.queue ?? "?")"
            if let count = death.count { text += " ×\(count)" }
            if !death.routingKeys.isEmpty { text += ", keys \(death.routingKeys.joined(separator: ","))" }
            if let time = death.time { text += ", at \(RFC3339.string(secondsSince1970: time))" }
            lines.append(row("x-death", text))
        }
        lines.append(row("body", "\(deadLetter.body.count) bytes"))
        return lines.joined(separator: "\n")
    }

    private static func row(_ label: String, _ value: String) -> String {
        "  " + label.padding(toLength: max(label.count + 1, 11), withPad: " ", startingAt: 0) + value
    }
}
