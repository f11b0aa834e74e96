import FsmlCore

/// Where a JSON string's content lies in the line: bytes [start, end) before unescaping.
struct StringToken {
    var start: Int
    var end: Int
    var escaped: Bool
    var nonASCII: Bool
}

/// A cursor over the bytes of one JSON text, with the pieces the event parser needs. Every read is
/// bounds-checked: a truncated line is an error, never a trap.
struct Scanner {
    let p: UnsafeRawBufferPointer
    var i = 0

    init(p: UnsafeRawBufferPointer) { self.p = p }

    @inline(__always)
    var peek: UInt8? { i < p.count ? p[i] : nil }

    @inline(__always)
    mutating func skipWhitespace() {
        // Whitespace is all at or below the space; most calls find none.
        if i < p.count && p[i] > 32 { return }
        while i < p.count {
            let c = p[i]
            guard c == 32 || c == 9 || c == 10 || c == 13 else { return }
            i += 1
        }
    }

    @inline(__always)
    mutating func expect(_ c: UInt8) throws(EventError) {
        guard i < p.count && p[i] == c else { throw missing(c) }
        i += 1
    }

    private func missing(_ c: UInt8) -> EventError {
        guard i < p.count else {
            return EventError("invalid JSON: the line ends where '\(Character(Unicode.Scalar(c)))' was expected")
        }
        return EventError(
            "invalid JSON at byte \(i): expected '\(Character(Unicode.Scalar(c)))' but found \(describeHere())")
    }

    @inline(__always)
    mutating func consumeLiteral(_ word: StaticString) -> Bool {
        let n = word.utf8CodeUnitCount
        guard i + n <= p.count else { return false }
        let w = word.utf8Start
        for k in 0..<n where p[i + k] != w[k] { return false }
        // "nullx" is not null
        if i + n < p.count {
            let c = p[i + n]
            if (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) { return false }
        }
        i += n
        return true
    }

    func describeHere() -> String {
        guard i < p.count else { return "the end of the line" }
        return Scanner.describe(p[i])
    }

    static func describe(_ c: UInt8) -> String {
        if c >= 32 && c < 127 { return "'\(Character(Unicode.Scalar(c)))'" }
        return "byte 0x\(String(c, radix: 16))"
    }

    /// Scans a string from its opening quote to just past its closing quote, checking escapes and
    /// control characters but not decoding. Whole words of plain bytes are skipped at once; the
    /// first byte of a word that needs a look, and every byte of the line's last few, are taken one
    /// at a time.
    @inline(__always)
    mutating func scanString(field: @autoclosure () -> String) throws(EventError) -> StringToken {
        let quoteAt = i
        i += 1
        var token = StringToken(start: i, end: i, escaped: false, nonASCII: false)
        let n = p.count
        while i < n {
            if i + 8 <= n {
                let w = UInt64(littleEndian: p.loadUnaligned(fromByteOffset: i, as: UInt64.self))
                let stops = Scanner.stops(in: w, high: !token.nonASCII)
                if stops == 0 {
                    i += 8
                    continue
                }
                i += stops.trailingZeroBitCount >> 3
            }
            let c = p[i]
            if c == UInt8(ascii: "\"") {
                token.end = i
                i += 1
                return token
            }
            if c == UInt8(ascii: "\\") {
                token.escaped = true
                guard i + 1 < n else { break }
                i += 2
                continue
            }
            if c < 32 { throw EventError("\(field()): control character in a string at byte \(i)") }
            if c >= 128 { token.nonASCII = true }
            i += 1
        }
        throw EventError("invalid JSON: string starting at byte \(quoteAt) never ends")
    }

    /// The bytes of `w` that a string scan must look at: '"', '\\', control characters and, while
    /// `high`, bytes from 0x80. The lowest flag is always right: the borrows that can set wrong
    /// flags only run upwards from a byte that is flagged rightly.
    @inline(__always)
    static func stops(in w: UInt64, high: Bool) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        let quote = w ^ (ones &* 0x22)
        let backslash = w ^ (ones &* 0x5C)
        let flags = (quote &- ones) & ~quote | (backslash &- ones) & ~backslash | (w &- ones &* 0x20) & ~w
        return (flags | (high ? w : 0)) & highs
    }

    /// The string's bytes: a slice of the line when it has no escapes, else decoded into `scratch`.
    /// Invalid UTF-8 is an error.
    @inline(__always)
    func bytes(
        of token: StringToken, field: @autoclosure () -> String, scratch: inout [UInt8]
    ) throws(EventError) -> UnsafeRawBufferPointer? {
        let slice = UnsafeRawBufferPointer(rebasing: p[token.start..<token.end])
        if !token.escaped && !token.nonASCII { return slice }
        return try decoded(token, field: field(), scratch: &scratch)
    }

    private func decoded(
        _ token: StringToken, field: String, scratch: inout [UInt8]
    ) throws(EventError) -> UnsafeRawBufferPointer? {
        if !token.escaped {
            let slice = UnsafeRawBufferPointer(rebasing: p[token.start..<token.end])
            if String(validating: slice, as: UTF8.self) == nil { throw EventError("\(field): invalid UTF-8") }
            return slice
        }
        scratch.removeAll(keepingCapacity: true)
        try unescape(token, field: field, into: &scratch)
        if scratch.contains(where: { $0 >= 128 }), String(validating: scratch, as: UTF8.self) == nil {
            throw EventError("\(field): invalid UTF-8")
        }
        return nil
    }

    private func unescape(_ token: StringToken, field: String, into out: inout [UInt8]) throws(EventError) {
        var k = token.start
        while k < token.end {
            let c = p[k]
            if c != UInt8(ascii: "\\") {
                out.append(c)
                k += 1
                continue
            }
            do { k = try JSONEscape.decode(p, at: k, end: token.end, into: &out) } catch {
                throw EventError("\(field): \(error.description)")
            }
        }
    }

    /// Skips any JSON value (of a key the schema does not declare), checking its structure:
    /// brackets must match and nesting stays within the limit.
    mutating func skipValue(depth: Int) throws(EventError) {
        var stack: [UInt8] = []
        while true {
            skipWhitespace()
            guard let c = peek else { throw EventError("invalid JSON: the line ends inside a value") }
            switch c {
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                guard depth + stack.count < EventParser.maxDepth else {
                    throw EventError("nesting deeper than \(EventParser.maxDepth)")
                }
                stack.append(c == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]"))
                i += 1
                skipWhitespace()
                if peek == stack.last {
                    i += 1
                    stack.removeLast()
                } else if c == UInt8(ascii: "{") {
                    try skipKeyColon()
                    continue
                } else {
                    continue
                }
            case UInt8(ascii: "\""):
                var scratch: [UInt8] = []
                _ = try bytes(of: try scanString(field: "value"), field: "value", scratch: &scratch)
            case UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"):
                guard consumeLiteral("true") || consumeLiteral("false") || consumeLiteral("null") else {
                    throw EventError("invalid JSON at byte \(i): unexpected \(describeHere())")
                }
            default:
                guard let (_, next) = DecimalNumber.parse(p, at: i) else {
                    throw EventError("invalid JSON at byte \(i): unexpected \(describeHere())")
                }
                i = next
            }
            // After a complete value: close containers or move to the next element.
            while true {
                guard let close = stack.last else { return }
                skipWhitespace()
                guard let c = peek else { throw EventError("invalid JSON: the line ends inside a value") }
                i += 1
                if c == close {
                    stack.removeLast()
                    continue
                }
                guard c == UInt8(ascii: ",") else {
                    throw EventError("invalid JSON at byte \(i - 1): unexpected \(Scanner.describe(c))")
                }
                if close == UInt8(ascii: "}") {
                    skipWhitespace()
                    try skipKeyColon()
                }
                break
            }
        }
    }

    private mutating func skipKeyColon() throws(EventError) {
        guard peek == UInt8(ascii: "\"") else {
            throw EventError("invalid JSON at byte \(i): expected a key in double quotes but found \(describeHere())")
        }
        var scratch: [UInt8] = []
        _ = try bytes(of: try scanString(field: "key"), field: "key", scratch: &scratch)
        skipWhitespace()
        try expect(UInt8(ascii: ":"))
    }
}
