extension HTTPRequestParser {
    /// A head from its bytes: the request line and the header lines, each ending in CRLF (the
    /// empty line after them not included). Only the headers the server acts on are read; the
    /// others are checked for shape (a token, a colon, a value without control bytes) and skipped.
    static func parseHead(_ p: UnsafeRawBufferPointer) throws(HTTPRequestError) -> HTTPRequestHead {
        var lineEnd = try nextCRLF(p, from: 0)
        var head = try requestLine(UnsafeRawBufferPointer(rebasing: p[0..<lineEnd]))
        var length: Int?
        var transferEncoding = false
        var connection: (close: Bool, keepAlive: Bool) = (false, false)
        var i = lineEnd + 2
        while i < p.count {
            lineEnd = try nextCRLF(p, from: i)
            let (name, value) = try header(UnsafeRawBufferPointer(rebasing: p[i..<lineEnd]))
            switch name.count {
            case 14 where equalsLowercased(name, "content-length"):
                guard length == nil, let n = decimal(value) else { throw badLength }
                length = n
            case 17 where equalsLowercased(name, "transfer-encoding"):
                guard !transferEncoding else { throw invalid("Transfer-Encoding is repeated") }
                guard equalsLowercased(value, "chunked") else {
                    throw HTTPRequestError(status: 501, message: "only the chunked transfer coding is supported")
                }
                transferEncoding = true
            case 10 where equalsLowercased(name, "connection"):
                for token in value.split(separator: UInt8(ascii: ",")) {
                    let t = trimmed(token)
                    if equalsLowercased(t, "close") { connection.close = true }
                    if equalsLowercased(t, "keep-alive") { connection.keepAlive = true }
                }
            case 6 where equalsLowercased(name, "expect"):
                head.expectContinue = equalsLowercased(value, "100-continue")
            default:
                break
            }
            i = lineEnd + 2
        }
        // A length beside chunked is how requests are smuggled past proxies (RFC 9112 §6.1).
        if transferEncoding && length != nil { throw badLength }
        head.chunked = transferEncoding
        head.contentLength = length ?? 0
        // An HTTP/1.0 message with a transfer coding has framing a 1.0 proxy may not share: answer
        // it, then close (RFC 9112 §6.1).
        head.keepAlive =
            !connection.close && (head.minorVersion >= 1 || connection.keepAlive)
            && !(transferEncoding && head.minorVersion == 0)
        return head
    }

    private static func nextCRLF(_ p: UnsafeRawBufferPointer, from start: Int) throws(HTTPRequestError) -> Int {
        var i = start
        while i < p.count {
            if p[i] == 10 { break }
            i += 1
        }
        // Every line here ends in CRLF (the head's end was found); a bare LF or CR is refused.
        guard i < p.count, i > start, p[i - 1] == 13 else { throw invalid("a line does not end in CRLF") }
        return i - 1
    }

    /// `METHOD SP request-target SP HTTP/1.x`.
    private static func requestLine(_ p: UnsafeRawBufferPointer) throws(HTTPRequestError) -> HTTPRequestHead {
        guard let sp1 = p.firstIndex(of: 32), sp1 > 0 else { throw invalid("no method") }
        let method = UnsafeRawBufferPointer(rebasing: p[..<sp1])
        guard method.allSatisfy(isToken) else { throw invalid("the method is not a token") }
        let rest = p[(sp1 + 1)...]
        guard let sp2 = rest.firstIndex(of: 32), sp2 > sp1 + 1 else { throw invalid("no request target") }
        let target = p[(sp1 + 1)..<sp2]
        guard target.allSatisfy({ $0 > 32 && $0 != 127 }) else { throw invalid("the request target is not valid") }
        let version = p[(sp2 + 1)...]
        guard version.count == 8, version.starts(with: "HTTP/".utf8) else { throw invalid("no HTTP version") }
        let major = version[version.startIndex + 5]
        let dot = version[version.startIndex + 6]
        let minor = version[version.startIndex + 7]
        guard dot == UInt8(ascii: "."), (48...57).contains(major), (48...57).contains(minor) else {
            throw invalid("no HTTP version")
        }
        guard major == UInt8(ascii: "1") else {
            throw HTTPRequestError(status: 505, message: "the server speaks HTTP/1.1 only")
        }
        return HTTPRequestHead(
            method: String(decoding: method, as: UTF8.self), uri: String(decoding: target, as: UTF8.self),
            minorVersion: Int(minor - 48), keepAlive: true, contentLength: 0, chunked: false, expectContinue: false)
    }

    /// `name: value`: the name a token right before the colon, the value without its surrounding
    /// spaces and tabs.
    private static func header(
        _ p: UnsafeRawBufferPointer
    ) throws(HTTPRequestError) -> (
        name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer
    ) {
        // A line that starts with a space or tab (obsolete folding) fails as a name that is not a token.
        guard let colon = p.firstIndex(of: UInt8(ascii: ":")), colon > 0 else {
            throw invalid("a header line has no name and colon")
        }
        let name = UnsafeRawBufferPointer(rebasing: p[..<colon])
        guard name.allSatisfy(isToken) else { throw invalid("a header name is not a token") }
        let value = trimmed(p[(colon + 1)...])
        guard !value.contains(where: { ($0 < 32 && $0 != 9) || $0 == 127 }) else {
            throw invalid("a header value holds a control byte")
        }
        return (name, UnsafeRawBufferPointer(rebasing: value))
    }

    private static func trimmed(_ s: Slice<UnsafeRawBufferPointer>) -> Slice<UnsafeRawBufferPointer> {
        var a = s.startIndex
        var b = s.endIndex
        while a < b, s[a] == 32 || s[a] == 9 { a += 1 }
        while b > a, s[b - 1] == 32 || s[b - 1] == 9 { b -= 1 }
        return s[a..<b]
    }

    /// ASCII case-insensitive equality with a lowercase literal.
    private static func equalsLowercased(_ bytes: some Collection<UInt8>, _ lower: StaticString) -> Bool {
        guard bytes.count == lower.utf8CodeUnitCount else { return false }
        var i = 0
        for b in bytes {
            let folded = (65...90).contains(b) ? b | 0x20 : b
            guard folded == lower.utf8Start[i] else { return false }
            i += 1
        }
        return true
    }

    /// 1*DIGIT, at most 18 digits (no sign, no list).
    private static func decimal(_ bytes: UnsafeRawBufferPointer) -> Int? {
        guard !bytes.isEmpty, bytes.count <= 18 else { return nil }
        var n = 0
        for b in bytes {
            guard (48...57).contains(b) else { return nil }
            n = n * 10 + Int(b - 48)
        }
        return n
    }

    /// A tchar of RFC 9110 §5.6.2.
    private static func isToken(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"),
            UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."),
            UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }
}
