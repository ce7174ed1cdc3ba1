import StrictJSON

/// A CloudEvents 1.0 event in structured JSON mode (`application/cloudevents+json`).
///
/// Attribute values are kept as text (`time` is the RFC 3339 string as sent), `data` as a ``JSONValue`` so amounts
/// keep their exact decimal text. Extension attributes are kept in ``extensions``.
public struct CloudEvent: Sendable, Equatable {
    /// The only CloudEvents version PayBridge speaks.
    public static let specVersion = "1.0"
    /// Content type of a structured-mode CloudEvent (AMQP `content_type`).
    public static let structuredContentType = "application/cloudevents+json"

    /// The context attributes CloudEvents 1.0 defines; anything else at the top level is an extension.
    static let definedAttributes: Set<String> = [
        "specversion", "id", "type", "source", "time", "subject", "datacontenttype", "dataschema", "data",
        "data_base64",
    ]

    /// `specversion`, always `"1.0"`.
    public var specversion: String
    /// `id`: for commands the command id (idempotency key); for outcome events the deterministic event id.
    public var id: String
    /// `type`, e.g. `paybridge.amanpay.purchase.v1`.
    public var type: String
    /// `source` (URI-reference).
    public var source: String
    /// `time` (RFC 3339), as written.
    public var time: String?
    /// `subject`.
    public var subject: String?
    /// `datacontenttype`; `nil` means `application/json`.
    public var datacontenttype: String?
    /// `dataschema`.
    public var dataschema: String?
    /// `data`, or `nil` when the event has none.
    public var data: JSONValue?
    /// Extension attributes (lower-case alphanumeric names), e.g. a tracing `traceparent`.
    public var extensions: JSONObject

    /// Creates an event.
    /// - Parameters:
    ///   - id: `id`.
    ///   - type: `type`.
    ///   - source: `source`.
    ///   - time: `time` as RFC 3339 text.
    ///   - subject: `subject`.
    ///   - datacontenttype: `datacontenttype`, default `application/json`.
    ///   - dataschema: `dataschema`.
    ///   - data: `data`.
    ///   - extensions: extension attributes.
    public init(
        id: String, type: String, source: String, time: String? = nil, subject: String? = nil,
        datacontenttype: String? = "application/json", dataschema: String? = nil, data: JSONValue? = nil,
        extensions: JSONObject = [:]
    ) {
        self.specversion = Self.specVersion
        self.id = id
        self.type = type
        self.source = source
        self.time = time
        self.subject = subject
        self.datacontenttype = datacontenttype
        self.dataschema = dataschema
        self.data = data
        self.extensions = extensions
    }

    /// Reads a structured-mode event from a parsed JSON object.
    ///
    /// Checks only what makes it a CloudEvent (an object with string `specversion` `"1.0"`, non-empty `id`, `type`,
    /// `source`; string `time`/`subject`/`datacontenttype`/`dataschema` when present; no `data_base64`). The
    /// per-type JSON Schema checks the rest.
    /// - Parameter json: the parsed message body.
    /// - Throws: ``CloudEventError`` naming the offending attribute.
    public init(json: JSONValue) throws(CloudEventError) {
        guard case .object(let o) = json else { throw CloudEventError("the message is not a JSON object") }
        func required(_ name: String) throws(CloudEventError) -> String {
            guard let v = o[name] else { throw CloudEventError("attribute '\(name)' is missing") }
            guard case .string(let s) = v, !s.isEmpty else {
                throw CloudEventError("attribute '\(name)' must be a non-empty string")
            }
            return s
        }
        func optional(_ name: String) throws(CloudEventError) -> String? {
            guard let v = o[name] else { return nil }
            guard case .string(let s) = v else { throw CloudEventError("attribute '\(name)' must be a string") }
            return s
        }
        let version = try required("specversion")
        guard version == Self.specVersion else {
            throw CloudEventError("unsupported specversion '\(version)' (expected '1.0')")
        }
        if o["data_base64"] != nil { throw CloudEventError("'data_base64' is not supported: send JSON 'data'") }
        self.specversion = version
        self.id = try required("id")
        self.type = try required("type")
        self.source = try required("source")
        self.time = try optional("time")
        self.subject = try optional("subject")
        self.datacontenttype = try optional("datacontenttype")
        self.dataschema = try optional("dataschema")
        self.data = o["data"]
        self.extensions = JSONObject(o.members.filter { !Self.definedAttributes.contains($0.key) })
    }

    /// Parses a structured-mode event from message body bytes.
    /// - Parameter bytes: UTF-8 JSON.
    /// - Returns: the event.
    /// - Throws: ``CloudEventError`` (bad JSON is reported as such).
    public static func parse(_ bytes: some Collection<UInt8>) throws(CloudEventError) -> CloudEvent {
        let json: JSONValue
        do {
            json = try JSONValue.parse(bytes)
        } catch {
            throw CloudEventError("invalid JSON: \(error)")
        }
        return try CloudEvent(json: json)
    }

    /// The event as a JSON object (structured mode).
    public var jsonValue: JSONValue {
        var o = extensions
        o.reserveCapacity(extensions.count + 9)  // the attributes below: one allocation, not one per doubling
        o["specversion"] = .string(specversion)
        o["id"] = .string(id)
        o["type"] = .string(type)
        o["source"] = .string(source)
        if let time { o["time"] = .string(time) }
        if let subject { o["subject"] = .string(subject) }
        if let datacontenttype { o["datacontenttype"] = .string(datacontenttype) }
        if let dataschema { o["dataschema"] = .string(dataschema) }
        if let data { o["data"] = data }
        return .object(o)
    }

    /// Canonical structured-mode bytes (see ``JSONValue/serialized()``).
    public func serialized() -> [UInt8] { jsonValue.serialized() }
}

/// Why a message is not a usable CloudEvent. Safe to print.
public struct CloudEventError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Human-readable reason.
    public let reason: String

    init(_ reason: String) { self.reason = reason }

    public var description: String { "not a CloudEvent: \(reason)" }
}
