/// JSON's backslash escapes (RFC 8259 §7) decoded to UTF-8: the one decoder the event scanner and
/// the JSON parser share. A `\u` high surrogate must be followed by an escaped low surrogate; a
/// lone surrogate is an error, as it is no Unicode scalar.
public enum JSONEscape {
    public enum Failure: Error, Sendable, Equatable, CustomStringConvertible {
        case truncated, invalidHex, unpairedSurrogate
        case invalidEscape(UInt8)

        public var description: String {
            switch self {
            case .truncated: "truncated \\u escape"
            case .invalidHex: "invalid \\u escape"
            case .unpairedSurrogate: "unpaired surrogate in \\u escape"
            case .invalidEscape(let e): "invalid escape '\\\(Character(Unicode.Scalar(e)))' in a string"
            }
        }
    }

    /// Decodes the escape whose backslash is `p[k]`, reading no further than `end`, appends its
    /// UTF-8 to `out` and returns the index just past it.
    public static func decode(
        _ p: UnsafeRawBufferPointer, at k: Int, end: Int, into out: inout [UInt8]
    ) throws(Failure) -> Int {
        guard k + 1 < end else { throw .truncated }
        var k = k + 2
        func hex4() throws(Failure) -> UInt32 {
            guard k + 4 <= end else { throw .truncated }
            var v: UInt32 = 0
            for _ in 0..<4 {
                let c = p[k]
                let d: UInt32
                switch c {
                case 48...57: d = UInt32(c - 48)
                case 97...102: d = UInt32(c - 87)
                case 65...70: d = UInt32(c - 55)
                default: throw .invalidHex
                }
                v = v << 4 | d
                k += 1
            }
            return v
        }
        switch p[k - 1] {
        case UInt8(ascii: "\""): out.append(34)
        case UInt8(ascii: "\\"): out.append(92)
        case UInt8(ascii: "/"): out.append(47)
        case UInt8(ascii: "b"): out.append(8)
        case UInt8(ascii: "f"): out.append(12)
        case UInt8(ascii: "n"): out.append(10)
        case UInt8(ascii: "r"): out.append(13)
        case UInt8(ascii: "t"): out.append(9)
        case UInt8(ascii: "u"):
            var scalar = try hex4()
            if scalar >= 0xD800 && scalar < 0xDC00 {
                guard k + 1 < end, p[k] == UInt8(ascii: "\\"), p[k + 1] == UInt8(ascii: "u") else {
                    throw .unpairedSurrogate
                }
                k += 2
                let low = try hex4()
                guard low >= 0xDC00 && low < 0xE000 else { throw .unpairedSurrogate }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            }
            guard let u = Unicode.Scalar(scalar) else { throw .unpairedSurrogate }
            out.append(contentsOf: Array(String(Character(u)).utf8))
        case let e: throw .invalidEscape(e)
        }
        return k
    }
}
