import NIOCore
import NIOHTTP1

/// A response's bytes, head and body in one buffer, so that it goes out in one write: the status
/// line, Content-Type, Content-Length, Date, `Connection` when it differs from the version's
/// default, the answer's own headers, then the body.
enum HTTPResponseWriter {
    static func write(_ answer: HTTPAnswer, keepAlive: Bool, minor: Int, date: String, into buffer: inout ByteBuffer) {
        // Nearly every answer is a 200 of JSON: its first line and type go as one constant.
        if answer.status == 200 && answer.contentType == "application/json" {
            buffer.writeStaticString("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ")
        } else {
            buffer.writeStaticString("HTTP/1.1 ")
            buffer.writeString(String(answer.status))
            buffer.writeStaticString(" ")
            buffer.writeString(HTTPResponseStatus(statusCode: answer.status).reasonPhrase)
            buffer.writeStaticString("\r\nContent-Type: ")
            buffer.writeString(answer.contentType)
            buffer.writeStaticString("\r\nContent-Length: ")
        }
        writeDecimal(answer.body.count, into: &buffer)
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

    /// A length's digits, without a String for them.
    static func writeDecimal(_ n: Int, into buffer: inout ByteBuffer) {
        precondition(n >= 0)
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
        var count = 0
        var rest = n
        withUnsafeMutableBytes(of: &digits) { d in
            repeat {
                d[23 - count] = UInt8(48 + rest % 10)
                rest /= 10
                count += 1
            } while rest > 0
            buffer.writeBytes(UnsafeRawBufferPointer(rebasing: d[(24 - count)...]))
        }
    }
}
