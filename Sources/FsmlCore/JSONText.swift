/// Minimal JSON text output: escaping strings and printing numbers the way JSON wants them
/// (NaN and infinities become null). Used for JSONL records and `--format json` output where
/// key order matters and Foundation's encoder would reorder or reformat.
public enum JSONText {
    public static func quote(_ s: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count + 2)
        appendQuoted(s, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    public static func appendQuoted(_ s: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        let hex = Array("0123456789abcdef".utf8)
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\""): out.append(contentsOf: [92, 34])
            case UInt8(ascii: "\\"): out.append(contentsOf: [92, 92])
            case 10: out.append(contentsOf: [92, UInt8(ascii: "n")])
            case 13: out.append(contentsOf: [92, UInt8(ascii: "r")])
            case 9: out.append(contentsOf: [92, UInt8(ascii: "t")])
            case 0..<32:
                out.append(contentsOf: [92, UInt8(ascii: "u"), 48, 48, hex[Int(b >> 4)], hex[Int(b & 15)]])
            default: out.append(b)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// Shortest round-trip text for finite numbers; `null` for NaN and infinities.
    public static func number(_ x: Double) -> String {
        guard x.isFinite else { return "null" }
        if x == x.rounded(), abs(x) < 1e15 { return String(Int64(x)) }
        return "\(x)"
    }

    /// Renders a value tree; keys keep the order given.
    public static func render(_ value: JSONValue, indent: Int? = 2) -> String {
        var out = ""
        write(value, indent: indent, level: 0, to: &out)
        return out
    }

    private static func write(_ v: JSONValue, indent: Int?, level: Int, to out: inout String) {
        let pad = indent.map { String(repeating: " ", count: $0 * (level + 1)) } ?? ""
        let closePad = indent.map { String(repeating: " ", count: $0 * level) } ?? ""
        let nl = indent == nil ? "" : "\n"
        let sep = indent == nil ? ":" : ": "
        switch v {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let x): out += number(x)
        case .float(let x): out += x.isFinite ? "\(x)" : "null"
        case .int(let i): out += String(i)
        case .string(let s): out += quote(s)
        case .array(let items):
            if items.isEmpty {
                out += "[]"
                return
            }
            out += "[" + nl
            for (i, item) in items.enumerated() {
                out += pad
                write(item, indent: indent, level: level + 1, to: &out)
                out += (i + 1 < items.count ? "," : "") + nl
            }
            out += closePad + "]"
        case .object(let pairs):
            if pairs.isEmpty {
                out += "{}"
                return
            }
            out += "{" + nl
            for (i, (k, item)) in pairs.enumerated() {
                out += pad + quote(k) + sep
                write(item, indent: indent, level: level + 1, to: &out)
                out += (i + 1 < pairs.count ? "," : "") + nl
            }
            out += closePad + "}"
        }
    }
}

/// An ordered JSON value for output.
public indirect enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    /// A number always written with a fraction or exponent (`0.0`, `1e-05`), for readers that type
    /// JSON numbers strictly (XGBoost).
    case float(Double)
    case int(Int)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])

    public static func == (a: JSONValue, b: JSONValue) -> Bool {
        JSONText.render(a, indent: nil) == JSONText.render(b, indent: nil)
    }
}
