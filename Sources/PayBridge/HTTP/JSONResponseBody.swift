import Foundation
import Hummingbird
import NIOCore

/// A response body written by `JSONEncoder`, never by string interpolation: a reason with quotes, backslashes or
/// line breaks still makes one valid JSON string.
enum JSONResponseBody {
    /// `{"error": reason}`.
    struct ErrorBody: Encodable {
        let error: String
    }

    static let contentType = "application/json"

    static func encode(_ value: some Encodable) -> ByteBuffer {
        do {
            return ByteBuffer(bytes: try JSONEncoder().encode(value))
        } catch {
            // Only non-finite floating-point numbers fail to encode; no body here has one.
            return ByteBuffer(string: #"{"error":"response not encodable"}"#)
        }
    }

    static func response(status: HTTPResponse.Status, _ value: some Encodable) -> Response {
        Response(status: status, headers: [.contentType: contentType], body: .init(byteBuffer: encode(value)))
    }
}
