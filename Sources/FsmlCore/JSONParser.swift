import Foundation

/// A parsed JSON value. Numbers keep their text, so that integers beyond 2^53 stay exact and
/// doubles convert with correct rounding (Foundation's parser on Linux does not round-trip every
/// double, which would break bit-identical model files).
public indirect enum JSONNode: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(String)
    case string(String)
    case array([JSONNode])
    case object([(String, JSONNode)])

    public static func == (a: JSONNode, b: JSONNode) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.number(let x), .number(let y)): return x == y
        case (.string(let x), .string(let y)): return x == y
        case (.array(let x), .array(let y)): return x == y
        case (.object(let x), .object(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    public subscript(key: String) -> JSONNode? {
        if case .object(let pairs) = self { return pairs.first { $0.0 == key }?.1 }
        return nil
    }

    public var double: Double? {
        if case .number(let text) = self { return DecimalText.double(text) }
        return nil
    }

    public var int: Int? {
        if case .number(let text) = self {
            if let i = Int(text) { return i }
            if let d = DecimalText.double(text), d == d.rounded(), abs(d) < 9e15 { return Int(d) }
        }
        return nil
    }

    public var string: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var bool: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    public var array: [JSONNode]? {
        if case .array(let a) = self { return a }
        return nil
    }

    public var object: [(String, JSONNode)]? {
        if case .object(let o) = self { return o }
        return nil
    }
}

enum DecimalText {
    /// Correctly rounded conversion of a JSON number's text.
    static func double(_ text: String) -> Double? {
        var copy = text
        return copy.withUTF8 { buf -> Double? in
            let raw = UnsafeRawBufferPointer(buf)
            guard let (x, end) = DecimalNumber.parse(raw, at: 0), end == raw.count else { return nil }
            return x
        }
    }
}

public struct JSONParseError: Error, CustomStringConvertible, Sendable, Equatable {
    public let description: String
}

/// A strict JSON parser (RFC 8259) over bytes, with bounded nesting.
public struct JSONParser {
    private let p: UnsafeRawBufferPointer
    private var i = 0
    public static let maxDepth = 512

    public static func parse(_ bytes: [UInt8]) throws(JSONParseError) -> JSONNode {
        let result = bytes.withUnsafeBytes { buf in
            Result { () throws(JSONParseError) in
                var parser = JSONParser(p: buf)
                parser.skipSpace()
                let value = try parser.value(depth: 0)
                parser.skipSpace()
                guard parser.i == buf.count else { throw parser.error("unexpected text after the value") }
                return value
            }
        }
        return try result.get()
    }

    public static func parse(_ text: String) throws(JSONParseError) -> JSONNode { try parse(Array(text.utf8)) }

    private init(p: UnsafeRawBufferPointer) { self.p = p }

    private func error(_ what: String) -> JSONParseError {
        // Line and column help with hand-edited files.
        var line = 1
        var column = 1
        for k in 0..<min(i, p.count) {
            if p[k] == 10 {
                line += 1
                column = 1
            } else {
                column += 1
            }
        }
        return JSONParseError(description: "JSON line \(line) column \(column): \(what)")
    }

    private mutating func skipSpace() {
        while i < p.count, p[i] == 32 || p[i] == 9 || p[i] == 10 || p[i] == 13 { i += 1 }
    }

    private mutating func value(depth: Int) throws(JSONParseError) -> JSONNode {
        guard depth < Self.maxDepth else { throw error("nesting deeper than \(Self.maxDepth)") }
        guard i < p.count else { throw error("unexpected end") }
        switch p[i] {
        case UInt8(ascii: "{"):
            i += 1
            var pairs: [(String, JSONNode)] = []
            // A key given twice has no one meaning (readers disagree on which wins): refused. A
            // small object (a request body) is searched; a set is made only for a larger one.
            var keys: Set<String>?
            skipSpace()
            if i < p.count && p[i] == UInt8(ascii: "}") {
                i += 1
                return .object(pairs)
            }
            while true {
                skipSpace()
                guard i < p.count && p[i] == UInt8(ascii: "\"") else { throw error("expected a key") }
                let keyStart = i
                let key = try string()
                let repeated: Bool
                if pairs.count < 16 {
                    repeated = pairs.contains { $0.0 == key }
                } else {
                    if keys == nil { keys = Set(pairs.map(\.0)) }
                    repeated = !keys!.insert(key).inserted
                }
                guard !repeated else {
                    i = keyStart
                    throw error("duplicate key \(JSONText.quote(String(key.prefix(64))))")
                }
                skipSpace()
                guard i < p.count && p[i] == UInt8(ascii: ":") else { throw error("expected ':'") }
                i += 1
                skipSpace()
                pairs.append((key, try value(depth: depth + 1)))
                skipSpace()
                guard i < p.count else { throw error("unexpected end in an object") }
                if p[i] == UInt8(ascii: ",") {
                    i += 1
                } else if p[i] == UInt8(ascii: "}") {
                    i += 1
                    return .object(pairs)
                } else {
                    throw error("expected ',' or '}'")
                }
            }
        case UInt8(ascii: "["):
            i += 1
            var items: [JSONNode] = []
            skipSpace()
            if i < p.count && p[i] == UInt8(ascii: "]") {
                i += 1
                return .array(items)
            }
            while true {
                skipSpace()
                items.append(try value(depth: depth + 1))
                skipSpace()
                guard i < p.count else { throw error("unexpected end in a list") }
                if p[i] == UInt8(ascii: ",") {
                    i += 1
                } else if p[i] == UInt8(ascii: "]") {
                    i += 1
                    return .array(items)
                } else {
                    throw error("expected ',' or ']'")
                }
            }
        case UInt8(ascii: "\""):
            return .string(try string())
        case UInt8(ascii: "t"): return try literal("true", .bool(true))
        case UInt8(ascii: "f"): return try literal("false", .bool(false))
        case UInt8(ascii: "n"): return try literal("null", .null)
        default:
            guard let (_, end) = DecimalNumber.parse(p, at: i) else { throw error("unexpected character") }
            let text = String(decoding: UnsafeRawBufferPointer(rebasing: p[i..<end]), as: UTF8.self)
            i = end
            return .number(text)
        }
    }

    private mutating func literal(_ word: String, _ node: JSONNode) throws(JSONParseError) -> JSONNode {
        let bytes = Array(word.utf8)
        guard i + bytes.count <= p.count, Array(p[i..<i + bytes.count]) == bytes else { throw error("unexpected word") }
        i += bytes.count
        return node
    }

    private mutating func string() throws(JSONParseError) -> String {
        i += 1
        var out: [UInt8] = []
        while i < p.count {
            let c = p[i]
            if c == UInt8(ascii: "\"") {
                i += 1
                guard let s = String(validating: out, as: UTF8.self) else { throw error("invalid UTF-8 in a string") }
                return s
            }
            if c < 32 { throw error("control character in a string") }
            if c != UInt8(ascii: "\\") {
                out.append(c)
                i += 1
                continue
            }
            guard i + 1 < p.count else { break }
            do { i = try JSONEscape.decode(p, at: i, end: p.count, into: &out) } catch {
                throw self.error(error.description)
            }
        }
        throw error("a string never ends")
    }

}
