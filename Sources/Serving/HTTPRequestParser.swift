import NIOCore

/// A request's head, as much of it as the server acts on.
struct HTTPRequestHead: Equatable, Sendable {
    var method: String
    var uri: String
    /// The y of HTTP/1.y.
    var minorVersion: Int
    /// The connection stays open after the answer (HTTP/1.1 unless `Connection: close`; HTTP/1.0
    /// only with `Connection: keep-alive`).
    var keepAlive: Bool
    /// The declared body length; 0 for none, and for a chunked body.
    var contentLength: Int
    var chunked: Bool
    var expectContinue: Bool
}

/// A request refused before any route saw it: the status and why, as the client is told.
struct HTTPRequestError: Error, Equatable, Sendable {
    var status: Int
    var message: String
}

/// HTTP/1.1 requests (RFC 9112) read straight from the bytes a connection has received: the head,
/// then the body of its `Content-Length` or its chunks. NIO's decoder did this before, but handing
/// each request on as three parts (a head with a header dictionary, the body, the end) cost more
/// than the whole answer of an in-process /predict; this reads only the headers the server acts
/// on (Content-Length, Transfer-Encoding, Connection, Expect) and skips the rest.
///
/// Fed the received bytes after each read, it consumes what it can and says what came; bytes it
/// has not consumed (a part of the next request) stay in the buffer for the next call.
struct HTTPRequestParser {
    /// What one call found.
    enum Step: Equatable {
        /// A request's head; its body follows (`request`, which may need more reads).
        case head(HTTPRequestHead)
        /// The body of the request whose head came last; the request is whole.
        case request(body: [UInt8])
    }

    private enum State {
        /// Looking for the end of a head; the first `scanned` bytes have no end in them.
        case head(scanned: Int)
        /// Waiting for a Content-Length body of this many bytes.
        case body(Int)
        case chunkSize
        /// Inside a chunk, with this many of its bytes still to come.
        case chunkData(Int)
        /// After a chunk's bytes, before its CRLF.
        case chunkEnd
        /// After the last chunk: trailer lines (skipped) until an empty one; `bytes` so far.
        case trailers(bytes: Int)
    }

    /// The most bytes a head (request line and headers), or the trailers, may take.
    let maxHead: Int
    /// The most bytes a body may take.
    let maxBody: Int
    private var state = State.head(scanned: 0)
    /// A chunked body so far.
    private var chunks: [UInt8] = []

    init(maxHead: Int = 80 * 1024, maxBody: Int) {
        self.maxHead = maxHead
        self.maxBody = maxBody
    }

    /// Whether it is between requests (nothing of a next one read yet, beside what `buffer` holds).
    var betweenRequests: Bool {
        if case .head(scanned: 0) = state { return true }
        return false
    }

    static let headTooLarge = HTTPRequestError(status: 431, message: "the request line or headers are too large")
    static let badLength = HTTPRequestError(
        status: 400, message: "the Content-Length is not valid (negative, repeated, or beside Transfer-Encoding)")
    static let badChunk = HTTPRequestError(status: 400, message: "a chunk size is not valid")
    static let endedEarly = HTTPRequestError(status: 400, message: "the request ended early")

    static func invalid(_ why: String) -> HTTPRequestError {
        HTTPRequestError(status: 400, message: "the request is not valid HTTP/1.1 (\(why))")
    }

    func tooLarge() -> HTTPRequestError {
        HTTPRequestError(status: 413, message: "the body is over \(maxBody / 1024) KiB")
    }

    /// The next step the bytes in `buffer` make, consuming them; nil when more bytes must come.
    /// After an error the connection must end: the parser's place in the stream is lost.
    mutating func next(_ buffer: inout ByteBuffer) throws(HTTPRequestError) -> Step? {
        while true {
            switch state {
            case .head(let scanned):
                return try head(&buffer, scanned: scanned).map(Step.head)
            case .body(let length):
                guard buffer.readableBytes >= length else { return nil }
                state = .head(scanned: 0)
                return .request(body: buffer.readBytes(length: length)!)
            case .chunkSize:
                guard let line = try Self.line(buffer, limit: 1024, error: Self.badChunk) else { return nil }
                let size = try Self.chunkSize(buffer.readableBytesView.prefix(line))
                buffer.moveReaderIndex(forwardBy: line + 2)
                if size == 0 {
                    state = .trailers(bytes: 0)
                } else {
                    guard size <= maxBody - chunks.count else { throw tooLarge() }
                    state = .chunkData(size)
                }
            case .chunkData(let remaining):
                let n = min(remaining, buffer.readableBytes)
                guard n > 0 else { return nil }
                chunks += buffer.readableBytesView.prefix(n)
                buffer.moveReaderIndex(forwardBy: n)
                state = n == remaining ? .chunkEnd : .chunkData(remaining - n)
            case .chunkEnd:
                guard buffer.readableBytes >= 2 else { return nil }
                guard buffer.readInteger(as: UInt16.self) == 0x0D0A else { throw Self.badChunk }
                state = .chunkSize
            case .trailers(let bytes):
                guard let line = try Self.line(buffer, limit: maxHead - bytes, error: Self.headTooLarge) else {
                    return nil
                }
                buffer.moveReaderIndex(forwardBy: line + 2)
                if line > 0 {
                    state = .trailers(bytes: bytes + line + 2)
                } else {
                    state = .head(scanned: 0)
                    defer { chunks = [] }
                    return .request(body: chunks)
                }
            }
        }
    }

    /// The client sent its last byte: an error when a request was under way.
    func inputEnded(_ buffer: ByteBuffer) throws(HTTPRequestError) {
        guard betweenRequests else { throw Self.endedEarly }
        // Blank lines between requests are allowed; anything else is a request cut short.
        if buffer.readableBytesView.contains(where: { $0 != 13 && $0 != 10 }) { throw Self.endedEarly }
    }

    /// A head, when its end has arrived: consumed and checked, and the state set for its body.
    private mutating func head(_ buffer: inout ByteBuffer, scanned: Int) throws(HTTPRequestError) -> HTTPRequestHead? {
        // Empty lines before a request line are skipped (RFC 9112 §2.2).
        while scanned == 0, let first = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self),
            first == 13 || first == 10
        {
            buffer.moveReaderIndex(forwardBy: 1)
        }
        let end = buffer.withUnsafeReadableBytes { Self.endOfHead($0, from: max(0, scanned - 3)) }
        guard let end else {
            if buffer.readableBytes > maxHead { throw Self.headTooLarge }
            state = .head(scanned: buffer.readableBytes)
            return nil
        }
        guard end <= maxHead else { throw Self.headTooLarge }
        let head = try buffer.withUnsafeReadableBytes { bytes throws(HTTPRequestError) in
            try Self.parseHead(UnsafeRawBufferPointer(rebasing: bytes[..<(end - 2)]))
        }
        buffer.moveReaderIndex(forwardBy: end)
        if head.chunked {
            chunks = []
            state = .chunkSize
        } else {
            guard head.contentLength <= maxBody else { throw tooLarge() }
            state = .body(head.contentLength)
        }
        return head
    }

    /// The index just past the first CRLF CRLF at or after `start`, or nil.
    static func endOfHead(_ p: UnsafeRawBufferPointer, from start: Int) -> Int? {
        var i = start + 3
        while i < p.count {
            let b = p[i]
            if b == 10 {
                if p[i - 1] == 13 && p[i - 2] == 10 && p[i - 3] == 13 { return i + 1 }
                i += 1
            } else if b == 13 {
                i += 1
            } else {
                // Neither CR nor LF: no terminator can end before i + 4.
                i += 4
            }
        }
        return nil
    }

    /// The length of the line at the buffer's start (before its CRLF), or nil until its CRLF comes.
    private static func line(
        _ buffer: ByteBuffer, limit: Int, error: HTTPRequestError
    ) throws(HTTPRequestError)
        -> Int?
    {
        let view = buffer.readableBytesView
        guard let lf = view.firstIndex(of: 10) else {
            if view.count > limit { throw error }
            return nil
        }
        let length = lf - view.startIndex - 1
        guard length >= 0, view[lf - 1] == 13 else { throw error }
        guard length <= limit else { throw error }
        return length
    }

    /// A chunk-size line: hex digits, then optionally spaces and extensions (`;name=value`), which
    /// are ignored but must be visible text: a parser that framed this line differently (a
    /// proxy's) must not be able to read another body out of it.
    private static func chunkSize(_ line: ByteBufferView.SubSequence) throws(HTTPRequestError) -> Int {
        var size = 0
        var digits = 0
        var i = line.startIndex
        digitsLoop: while i < line.endIndex {
            let b = line[i]
            let v: Int
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): v = Int(b) - 48
            case UInt8(ascii: "a")...UInt8(ascii: "f"): v = Int(b) - 87
            case UInt8(ascii: "A")...UInt8(ascii: "F"): v = Int(b) - 55
            default: break digitsLoop
            }
            digits += 1
            guard digits <= 15 else { throw badChunk }
            size = size << 4 | v
            i += 1
        }
        guard digits > 0 else { throw badChunk }
        while i < line.endIndex && (line[i] == UInt8(ascii: " ") || line[i] == UInt8(ascii: "\t")) { i += 1 }
        guard i < line.endIndex else { return size }
        guard line[i] == UInt8(ascii: ";") else { throw badChunk }
        for b in line[i...] where b != UInt8(ascii: "\t") && (b < 0x20 || b == 0x7F) { throw badChunk }
        return size
    }
}
