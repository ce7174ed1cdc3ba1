import Foundation
import Logging

/// PayBridge's plain-text log format: one record per line, as swift-log's `StreamLogHandler` writes it
/// (`<time> <level> <label>: key=value … [<source>] <message>`), except that nothing in a record can end its line
/// or pass for another field.
///
/// Metadata values come from outside (command ids, payment ids, account names, routing keys, error texts); a
/// command id holding `"\n… error paybridge: level=error …"` must not forge a line. So:
/// - a metadata value (and key) is written bare when it is only printable ASCII other than space, `"`, `=` and
///   `\`; otherwise in double quotes, with `\`, `"`, line feed, carriage return and tab escaped as `\\`, `\"`, `\n`,
///   `\r`, `\t`, and every other control character (C0, DEL, C1, U+2028, U+2029) as `\u{XX}`;
/// - the message (and label and source) keep spaces and quotes but get the same escapes for control characters.
public struct PlainTextLogHandler: LogHandler {
    /// Where finished lines go, one call per record (the line ends with `\n`).
    public typealias Output = @Sendable (String) -> Void

    private let label: String
    private let output: Output
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?

    public init(label: String, metadataProvider: Logger.MetadataProvider? = nil, output: @escaping Output) {
        self.label = label
        self.metadataProvider = metadataProvider
        self.output = output
    }

    /// To standard error, one `write(2)` per record (so records of concurrent tasks do not interleave).
    public static func standardError(label: String) -> PlainTextLogHandler {
        PlainTextLogHandler(label: label, metadataProvider: LoggingSystem.metadataProvider) { line in
            FileHandle.standardError.write(Data(line.utf8))
        }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var all = metadata
        if let provided = metadataProvider?.get() { all.merge(provided) { $1 } }
        if let explicit = event.metadata { all.merge(explicit) { $1 } }
        if let error = event.error {
            all["error.message"] = "\(error)"
            all["error.type"] = "\(String(reflecting: type(of: error)))"
        }
        output(Self.line(time: Self.timestamp(), level: event.level, label: label, metadata: all,
                         source: event.source, message: event.message.description))
    }

    /// One record, ending with a line feed.
    static func line(time: String, level: Logger.Level, label: String, metadata: Logger.Metadata, source: String,
                     message: String) -> String {
        var line = "\(time) \(level)"
        if !label.isEmpty { line += " " + escapingControls(label) }
        line += ":"
        for (key, value) in metadata.sorted(by: { $0.key < $1.key }) {
            line += " " + field(key) + "=" + field(Self.text(value))
        }
        line += " [" + escapingControls(source) + "] " + escapingControls(message) + "\n"
        return line
    }

    /// A metadata value as text (nested values as swift-log prints them; escaped afterwards as a whole).
    static func text(_ value: Logger.Metadata.Value) -> String {
        switch value {
        case .string(let string): string
        case .stringConvertible(let convertible): convertible.description
        case .array, .dictionary: value.description
        }
    }

    /// A key or value: bare when it is plain printable ASCII, else quoted and escaped.
    static func field(_ text: String) -> String {
        let bare = !text.isEmpty && text.utf8.allSatisfy { byte in
            (0x21...0x7E).contains(byte) && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "=")
                && byte != UInt8(ascii: "\\")
        }
        if bare { return text }
        var quoted = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": quoted += "\\\""
            case "\\": quoted += "\\\\"
            default: quoted += escaped(scalar)
            }
        }
        return quoted + "\""
    }

    /// Text whose control characters (line breaks included) are escaped; everything else as it is.
    static func escapingControls(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: isControl) else { return text }
        var result = ""
        for scalar in text.unicodeScalars { result += escaped(scalar) }
        return result
    }

    private static func escaped(_ scalar: Unicode.Scalar) -> String {
        switch scalar {
        case "\n": return "\\n"
        case "\r": return "\\r"
        case "\t": return "\\t"
        case _ where isControl(scalar): return "\\u{" + String(scalar.value, radix: 16) + "}"
        default: return String(scalar)
        }
    }

    /// C0, DEL, C1 and the Unicode line and paragraph separators: what could end or rewrite a line on a terminal
    /// or in a log collector.
    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar.value == 0x2028
            || scalar.value == 0x2029
    }

    /// Local time, `2026-11-18T11:06:40+0000`, as `StreamLogHandler` writes it.
    static func timestamp() -> String {
        var now = time(nil)
        var parts = tm()
        guard localtime_r(&now, &parts) != nil else { return "<unknown>" }
        var buffer = [Int8](repeating: 0, count: 64)
        let count = strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%S%z", &parts)
        return String(decoding: buffer.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
