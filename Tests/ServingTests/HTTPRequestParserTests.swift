import NIOCore
import Testing

@testable import Serving

/// The server's HTTP/1.1 request reader, on bytes written out by hand: requests whole, cut at
/// every byte, sent back to back, chunked; and each way a request is refused (the status the
/// client gets).
@Suite struct HTTPRequestParserTests {
    typealias Step = HTTPRequestParser.Step

    /// What the parser makes of `pieces` arriving one after another: the steps, and the error
    /// that stopped it, if any.
    static func feed(
        _ pieces: [[UInt8]], maxBody: Int = 1000, maxHead: Int = 200
    ) -> (
        steps: [Step], error: HTTPRequestError?, left: ByteBuffer
    ) {
        var parser = HTTPRequestParser(maxHead: maxHead, maxBody: maxBody)
        var buffer = ByteBuffer()
        var steps: [Step] = []
        for piece in pieces {
            buffer.writeBytes(piece)
            do {
                while let step = try parser.next(&buffer) { steps.append(step) }
            } catch {
                return (steps, error, buffer)
            }
        }
        return (steps, nil, buffer)
    }

    static func feed(
        _ text: String, maxBody: Int = 1000, maxHead: Int = 200
    ) -> (
        steps: [Step], error: HTTPRequestError?, left: ByteBuffer
    ) {
        feed([Array(text.utf8)], maxBody: maxBody, maxHead: maxHead)
    }

    static func head(
        _ method: String, _ uri: String, minor: Int = 1, keepAlive: Bool = true, length: Int = 0,
        chunked: Bool = false, expect: Bool = false
    ) -> Step {
        .head(
            HTTPRequestHead(
                method: method, uri: uri, minorVersion: minor, keepAlive: keepAlive, contentLength: length,
                chunked: chunked, expectContinue: expect))
    }

    static func body(_ text: String) -> Step { .request(body: Array(text.utf8)) }

    static let post =
        "POST /predict?x=1 HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"u\":\"a b\"}"
    static let chunked =
        "POST /rank HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n5\r\nhello\r\n6;name=value\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n"

    @Test func aRequestWithAndWithoutABody() {
        #expect(
            Self.feed(Self.post).steps == [Self.head("POST", "/predict?x=1", length: 11), Self.body("{\"u\":\"a b\"}")])
        #expect(Self.feed("GET /healthz HTTP/1.1\r\n\r\n").steps == [Self.head("GET", "/healthz"), Self.body("")])
        let chunked = Self.feed(Self.chunked)
        #expect(chunked.steps == [Self.head("POST", "/rank", chunked: true), Self.body("hello world")])
        #expect(chunked.error == nil && chunked.left.readableBytes == 0)
    }

    /// However the bytes are cut into two reads, or sent a byte at a time, the steps are the same.
    @Test func aRequestCutAtEveryByteGivesTheSameSteps() {
        for text in [Self.post, Self.chunked] {
            let bytes = Array(text.utf8)
            let whole = Self.feed([bytes]).steps
            for cut in 0...bytes.count {
                let split = Self.feed([Array(bytes[..<cut]), Array(bytes[cut...])])
                #expect(split.steps == whole && split.error == nil, "cut at \(cut)")
            }
            #expect(Self.feed(bytes.map { [$0] }).steps == whole)
        }
    }

    /// Pipelined requests come out in order; what is left of the last one waits in the buffer.
    @Test func requestsSentBackToBackComeOutInOrder() {
        let text = Self.post + "\r\n" + "GET /a HTTP/1.1\r\n\r\n" + Self.chunked + "GET /b HTTP/1.1\r\nHo"
        let (steps, error, left) = Self.feed(text)
        #expect(error == nil)
        #expect(
            steps == [
                Self.head("POST", "/predict?x=1", length: 11), Self.body("{\"u\":\"a b\"}"), Self.head("GET", "/a"),
                Self.body(""), Self.head("POST", "/rank", chunked: true), Self.body("hello world"),
            ])
        #expect(String(buffer: left) == "GET /b HTTP/1.1\r\nHo")
    }

    @Test func keepAliveFollowsTheVersionAndTheConnectionHeader() {
        let cases: [(String, Int, Bool)] = [
            ("GET / HTTP/1.1\r\n\r\n", 1, true),
            ("GET / HTTP/1.1\r\nConnection: close\r\n\r\n", 1, false),
            ("GET / HTTP/1.1\r\nconnection: Keep-Alive, CLOSE\r\n\r\n", 1, false),
            ("GET / HTTP/1.0\r\n\r\n", 0, false),
            ("GET / HTTP/1.0\r\nConnection:keep-alive\r\n\r\n", 0, true),
        ]
        for (text, minor, keepAlive) in cases {
            #expect(Self.feed(text).steps.first == Self.head("GET", "/", minor: minor, keepAlive: keepAlive), "\(text)")
        }
        // HTTP/1.0 with a transfer coding: answered, then the connection closes (RFC 9112 §6.1).
        let chunked10 = Self.feed("POST / HTTP/1.0\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n")
        #expect(chunked10.steps == [Self.head("POST", "/", minor: 0, keepAlive: false, chunked: true)])
        let expecting = Self.feed("PUT /x HTTP/1.1\r\nExpect: 100-Continue\r\nContent-Length: 2\r\n\r\n")
        #expect(expecting.steps == [Self.head("PUT", "/x", length: 2, expect: true)])
    }

    /// Empty lines before a request are skipped; headers the server does not read are skipped
    /// whatever their value, and values lose their surrounding spaces.
    @Test func blankLinesAndOtherHeadersAreSkipped() {
        let text = "\r\n\r\nPOST /p HTTP/1.1\r\nX-Odd:  a: b \t\r\nContent-Length:\t3 \r\n\r\nabc"
        #expect(Self.feed(text).steps == [Self.head("POST", "/p", length: 3), Self.body("abc")])
    }

    /// Spaces after the size and extensions of visible text are read past.
    @Test func chunkExtensionsAreSkipped() {
        let text = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5 ;a=\"b c\"\r\nhello\r\n0\t\r\n\r\n"
        #expect(Self.feed(text).steps == [Self.head("POST", "/", chunked: true), Self.body("hello")])
    }

    @Test func badRequestsAreRefusedWithTheirStatus() {
        let cases: [(String, HTTPRequestError)] = [
            ("POST / HTTP/1.1\r\nContent-Length: -5\r\n\r\n", HTTPRequestParser.badLength),
            ("POST / HTTP/1.1\r\nContent-Length: 5x\r\n\r\n", HTTPRequestParser.badLength),
            ("POST / HTTP/1.1\r\nContent-Length: 5, 5\r\n\r\n", HTTPRequestParser.badLength),
            ("POST / HTTP/1.1\r\nContent-Length: \r\n\r\n", HTTPRequestParser.badLength),
            ("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx", HTTPRequestParser.badLength),
            (
                "POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                HTTPRequestParser.badLength
            ),
            ("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n", HTTPRequestParser.badChunk),
            ("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n;x\r\n", HTTPRequestParser.badChunk),
            ("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcd\r\n", HTTPRequestParser.badChunk),
            ("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\nabc\r\n", HTTPRequestParser.badChunk),
            ("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5 junk\r\nhello\r\n", HTTPRequestParser.badChunk),
            ("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;a\rb\r\nhello\r\n", HTTPRequestParser.badChunk),
            ("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;a\u{1}\r\nhello\r\n", HTTPRequestParser.badChunk),
            (
                "POST / HTTP/1.1\r\nContent-Length: 1001\r\n\r\n",
                HTTPRequestError(status: 413, message: "the body is over 0 KiB")
            ),
            (
                "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3e9\r\n",
                HTTPRequestError(status: 413, message: "the body is over 0 KiB")
            ),
            (
                "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
                HTTPRequestError(status: 501, message: "only the chunked transfer coding is supported")
            ),
            ("GET / HTTP/2.0\r\n\r\n", HTTPRequestError(status: 505, message: "the server speaks HTTP/1.1 only")),
            ("GET /\r\n\r\n", HTTPRequestParser.invalid("no request target")),
            ("GET  / HTTP/1.1\r\n\r\n", HTTPRequestParser.invalid("no request target")),
            ("GET / HTTP/1.1 \r\n\r\n", HTTPRequestParser.invalid("no HTTP version")),
            ("G(T / HTTP/1.1\r\n\r\n", HTTPRequestParser.invalid("the method is not a token")),
            ("GET / HTTP/1.1\nHost: x\r\n\r\n", HTTPRequestParser.invalid("a line does not end in CRLF")),
            ("GET / HTTP/1.1\r\nHost x\r\n\r\n", HTTPRequestParser.invalid("a header line has no name and colon")),
            ("GET / HTTP/1.1\r\nHost : x\r\n\r\n", HTTPRequestParser.invalid("a header name is not a token")),
            (
                "GET / HTTP/1.1\r\nA: b\r\n folded\r\n\r\n",
                HTTPRequestParser.invalid("a header line has no name and colon")
            ),
            ("GET / HTTP/1.1\r\nA: b\u{0}c\r\n\r\n", HTTPRequestParser.invalid("a header value holds a control byte")),
        ]
        for (text, expected) in cases {
            let (_, error, _) = Self.feed(text)
            #expect(error == expected, "\(text.debugDescription)")
        }
    }

    /// A head over the limit is refused as soon as that many bytes have come without its end,
    /// and when its end comes past the limit in one read.
    @Test func aHeadOverTheLimitIsA431() {
        let long = "GET /\(String(repeating: "a", count: 300)) HTTP/1.1\r\n"
        #expect(Self.feed(long).error == HTTPRequestParser.headTooLarge)
        #expect(Self.feed(long + "\r\n").error == HTTPRequestParser.headTooLarge)
        let trailers =
            "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: \(String(repeating: "t", count: 300))"
        #expect(Self.feed(trailers).error == HTTPRequestParser.headTooLarge)
        // Just under the limit is read.
        let fits = "GET /\(String(repeating: "a", count: 200 - 18)) HTTP/1.1\r\n\r\n"
        #expect(fits.utf8.count == 200 && Self.feed(fits).error == nil)
    }

    /// The client's last byte: fine between requests (blank lines too), a request cut short otherwise.
    @Test func inputThatEndsInsideARequestIsEndedEarly() {
        func ended(_ text: String) -> HTTPRequestError? {
            var parser = HTTPRequestParser(maxBody: 1000)
            var buffer = ByteBuffer(string: text)
            do {
                while try parser.next(&buffer) != nil {}
                try parser.inputEnded(buffer)
                return nil
            } catch {
                return error
            }
        }
        #expect(ended("") == nil)
        #expect(ended("GET / HTTP/1.1\r\n\r\n\r\n") == nil)
        #expect(ended("GET / HTTP/1.1\r\n") == HTTPRequestParser.endedEarly)
        #expect(ended("POST / HTTP/1.1\r\nContent-Length: 100\r\n\r\n{}") == HTTPRequestParser.endedEarly)
        #expect(ended("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab") == HTTPRequestParser.endedEarly)
    }
}
