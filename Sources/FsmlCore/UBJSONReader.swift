/// Universal Binary JSON (ubjson.org, draft 12), read into the same nodes as JSON text: XGBoost's
/// default model format (.ubj). Typed, counted containers (`$` and `#`) are read as plain arrays.
public enum UBJSONReader {
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    /// Whether `bytes` open a UBJSON object rather than a JSON one: after the brace, UBJSON has a
    /// key's length marker (or a container's type or count), where JSON has a quote, a space or
    /// the closing brace.
    public static func looksLikeObject(_ bytes: [UInt8]) -> Bool {
        guard bytes.count > 1, bytes[0] == UInt8(ascii: "{") else { return false }
        return Array("iUIlL$#".utf8).contains(bytes[1])
    }

    public static func parse(_ bytes: [UInt8]) throws -> JSONNode {
        var i = 0
        let node = try bytes.withUnsafeBufferPointer { try value(in: $0, at: &i, marker: nil) }
        return node
    }

    static func fail(_ why: String, _ at: Int) -> Failure { Failure(description: "\(why) at byte \(at)") }

    static func byte(_ b: UnsafeBufferPointer<UInt8>, _ i: inout Int) throws -> UInt8 {
        guard i < b.count else { throw fail("unexpected end", i) }
        defer { i += 1 }
        return b[i]
    }

    /// A big-endian number of `size` bytes.
    static func bigEndian(_ b: UnsafeBufferPointer<UInt8>, _ i: inout Int, _ size: Int) throws -> UInt64 {
        guard i + size <= b.count else { throw fail("unexpected end", i) }
        var v: UInt64 = 0
        for k in 0..<size { v = v << 8 | UInt64(b[i + k]) }
        i += size
        return v
    }

    static func integer(_ b: UnsafeBufferPointer<UInt8>, _ i: inout Int, _ marker: UInt8) throws -> Int64? {
        switch marker {
        case UInt8(ascii: "i"): return Int64(Int8(bitPattern: UInt8(try bigEndian(b, &i, 1))))
        case UInt8(ascii: "U"): return Int64(try bigEndian(b, &i, 1))
        case UInt8(ascii: "I"): return Int64(Int16(bitPattern: UInt16(try bigEndian(b, &i, 2))))
        case UInt8(ascii: "l"): return Int64(Int32(bitPattern: UInt32(try bigEndian(b, &i, 4))))
        case UInt8(ascii: "L"): return Int64(bitPattern: try bigEndian(b, &i, 8))
        default: return nil
        }
    }

    static func count(_ b: UnsafeBufferPointer<UInt8>, _ i: inout Int) throws -> Int {
        let at = i
        guard let n = try integer(b, &i, try byte(b, &i)), n >= 0, n <= b.count else {
            throw fail("not a length", at)
        }
        return Int(n)
    }

    static func string(_ b: UnsafeBufferPointer<UInt8>, _ i: inout Int) throws -> String {
        let n = try count(b, &i)
        guard i + n <= b.count else { throw fail("a string runs past the end", i) }
        defer { i += n }
        return String(decoding: UnsafeBufferPointer(rebasing: b[i..<i + n]), as: UTF8.self)
    }

    /// The value at `i`, whose type marker is `marker` when a typed container gave it.
    static func value(in b: UnsafeBufferPointer<UInt8>, at i: inout Int, marker given: UInt8?) throws -> JSONNode {
        var marker = try given ?? byte(b, &i)
        while given == nil && marker == UInt8(ascii: "N") { marker = try byte(b, &i) }
        if let n = try integer(b, &i, marker) { return .number(String(n)) }
        switch marker {
        case UInt8(ascii: "Z"): return .null
        case UInt8(ascii: "T"): return .bool(true)
        case UInt8(ascii: "F"): return .bool(false)
        case UInt8(ascii: "d"):
            return .number("\(Double(Float(bitPattern: UInt32(try bigEndian(b, &i, 4)))))")
        case UInt8(ascii: "D"): return .number("\(Double(bitPattern: try bigEndian(b, &i, 8)))")
        case UInt8(ascii: "C"): return .string(String(UnicodeScalar(try byte(b, &i))))
        case UInt8(ascii: "S"): return .string(try string(b, &i))
        case UInt8(ascii: "H"): return .number(try string(b, &i))
        case UInt8(ascii: "["), UInt8(ascii: "{"):
            let isObject = marker == UInt8(ascii: "{")
            var type: UInt8?
            var n: Int?
            if i < b.count && b[i] == UInt8(ascii: "$") {
                i += 1
                type = try byte(b, &i)
                guard i < b.count && b[i] == UInt8(ascii: "#") else {
                    throw fail("a typed container without a count", i)
                }
            }
            if i < b.count && b[i] == UInt8(ascii: "#") {
                i += 1
                n = try count(b, &i)
            }
            var items: [JSONNode] = []
            var fields: [(String, JSONNode)] = []
            let end = UInt8(ascii: isObject ? "}" : "]")
            var k = 0
            while n.map({ k < $0 }) ?? true {
                if n == nil {
                    guard i < b.count else { throw fail("unclosed container", i) }
                    if b[i] == end {
                        i += 1
                        break
                    }
                }
                if isObject {
                    let key = try string(b, &i)
                    fields.append((key, try value(in: b, at: &i, marker: type)))
                } else {
                    items.append(try value(in: b, at: &i, marker: type))
                }
                k += 1
            }
            return isObject ? .object(fields) : .array(items)
        default:
            throw fail("unknown marker '\(String(UnicodeScalar(marker)))'", i - 1)
        }
    }
}
