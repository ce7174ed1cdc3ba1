import NIOCore
import NIOHTTP1
import Tracing

/// A provider request as the bytes that go on the wire: `POST <target> HTTP/1.1`, the header lines and the body, in
/// one buffer, written by ``NIOHTTPRequestWriter`` in one piece. Built where the request is prepared (on the
/// caller's task), so the event loop only copies it to the socket; NIO's `HTTPRequestEncoder` and its header
/// validator did this work on the loop, part by part.
///
/// Header names must be HTTP tokens and values must not contain CR, LF or NUL (what NIO's validator refused):
/// otherwise building fails with ``InvalidHeader`` and nothing is sent. `Content-Length` is always the body's
/// length; a caller's own `Content-Length` is left out.
struct NIOHTTPRequestBytes {
    /// A header name or value that cannot be sent as it is (header injection, or not a token).
    struct InvalidHeader: Error, Equatable, CustomStringConvertible {
        /// The header's name, when it is a token (else the name is the problem and is not repeated).
        var name: String?
        var description: String {
            name.map { "the value of header \($0) contains CR, LF or NUL" } ?? "a header name is not an HTTP token"
        }
    }

    private(set) var buffer: ByteBuffer
    private var valid = true
    private var invalidName: String?

    /// Starts a request: the request line, `Host`, `Content-Type: application/json`.
    init(target: String, host: String, bodyBytes: Int) {
        buffer = ByteBufferAllocator().buffer(capacity: 320 + target.utf8.count + bodyBytes)
        buffer.writeStaticString("POST ")
        buffer.writeString(target)
        buffer.writeStaticString(" HTTP/1.1\r\nHost: ")
        add(value: host, name: "Host")
        buffer.writeStaticString("\r\nContent-Type: application/json\r\n")
    }

    /// Appends a header line (a `Content-Length` is skipped: ``finish(body:)`` writes the real one).
    mutating func add(name: String, value: String) {
        guard Self.isToken(name) else {
            valid = false
            return
        }
        if name.utf8.count == 14, name.lowercased() == "content-length" { return }
        buffer.writeString(name)
        buffer.writeStaticString(": ")
        add(value: value, name: name)
        buffer.writeStaticString("\r\n")
    }

    private mutating func add(value: String, name: String) {
        if value.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A || $0 == 0x00 }) {
            if valid { invalidName = name }
            valid = false
            return
        }
        buffer.writeString(value)
    }

    /// `Content-Length`, the blank line and `body`.
    /// - Throws: ``InvalidHeader`` when a header could not be written as given.
    consuming func finish(body: String) throws(InvalidHeader) -> ByteBuffer {
        guard valid else { throw InvalidHeader(name: invalidName) }
        buffer.writeStaticString("Content-Length: ")
        buffer.writeString(String(body.utf8.count))
        buffer.writeStaticString("\r\n\r\n")
        buffer.writeString(body)
        return buffer
    }

    /// RFC 9110 `token`: one or more of `!#$%&'*+-.^_`|~`, digits and letters.
    static func isToken(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "A")...UInt8(ascii: "Z"):
                true
            case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"),
                 UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."),
                 UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
                true
            default:
                false
            }
        }
    }
}

/// Trace headers straight into the request's bytes.
struct NIOHTTPRequestBytesInjector: Injector {
    func inject(_ value: String, forKey key: String, into carrier: inout NIOHTTPRequestBytes) {
        carrier.add(name: key, value: value)
    }
}

/// Writes a request's bytes (the `.body` part, see ``NIOHTTPRequestBytes``) to the channel as they are; the `.head`
/// part is only there for NIO's `HTTPResponseDecoder`, which learns the request's method from it (a response to
/// `HEAD` has no body), and `.end` closes nothing. Sits between the response decoder and the socket (or TLS), where
/// NIO's `HTTPRequestEncoder` would.
final class NIOHTTPRequestWriter: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = HTTPClientRequestPart
    typealias OutboundOut = ByteBuffer

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .body(.byteBuffer(let bytes)):
            context.write(wrapOutboundOut(bytes), promise: promise)
        case .head, .end:
            promise?.succeed(())
        case .body(.fileRegion):
            promise?.fail(ChannelError.operationUnsupported)
        }
    }
}
