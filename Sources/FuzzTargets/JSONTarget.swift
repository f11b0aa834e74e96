import FsmlCore

/// The strict JSON parser every fsml file and request goes through: any bytes give a value or a
/// `JSONParseError`, and a value written back with fsml's own string quoting parses to itself.
enum JSONTarget {
    static let target = FuzzTarget(name: "json", summary: "the JSON parser and fsml's string quoting", run: run)

    static func run(_ bytes: UnsafeRawBufferPointer) {
        guard let node = try? JSONParser.parse(Array(bytes)) else { return }
        var text = ""
        write(node, to: &text)
        do { mustHold(try JSONParser.parse(text) == node, "a value written back parses differently: \(text)") } catch {
            mustHold(false, "a value written back does not parse: \(error)")
        }
    }

    private static func write(_ node: JSONNode, to out: inout String) {
        switch node {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let text): out += text
        case .string(let s): out += JSONText.quote(s)
        case .array(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                write(item, to: &out)
            }
            out += "]"
        case .object(let pairs):
            out += "{"
            for (i, (key, value)) in pairs.enumerated() {
                if i > 0 { out += "," }
                out += JSONText.quote(key) + ":"
                write(value, to: &out)
            }
            out += "}"
        }
    }
}
