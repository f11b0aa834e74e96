import NIOCore
import NIOHTTP1

/// A response's bytes, head and body in one buffer, so that it goes out in one write: the status
/// line, Content-Type, Content-Length, Date, `Connection` when it differs from the version's
/// default, the answer's own headers, then the body.
enum HTTPResponseWriter {
    static func write(_ answer: HTTPAnswer, keepAlive: Bool, minor: Int, date: String, into buffer: inout ByteBuffer) {
        buffer.writeStaticString("HTTP/1.1 ")
        buffer.writeString(String(answer.status))
        buffer.writeStaticString(" ")
        buffer.writeString(HTTPResponseStatus(statusCode: answer.status).reasonPhrase)
        buffer.writeStaticString("\r\nContent-Type: ")
        buffer.writeString(answer.contentType)
        buffer.writeStaticString("\r\nContent-Length: ")
        buffer.writeString(String(answer.body.count))
        buffer.writeStaticString("\r\nDate: ")
        buffer.writeString(date)
        if !keepAlive {
            buffer.writeStaticString("\r\nConnection: close")
        } else if minor == 0 {
            // HTTP/1.0 closes after each response unless told otherwise.
            buffer.writeStaticString("\r\nConnection: keep-alive")
        }
        for (name, value) in answer.headers {
            buffer.writeStaticString("\r\n")
            buffer.writeString(name)
            buffer.writeStaticString(": ")
            buffer.writeString(value)
        }
        buffer.writeStaticString("\r\n\r\n")
        buffer.writeBytes(answer.body)
    }
}
