import FeatureCore
import Foundation
import FsmlCore
import Yams

/// A YAML node with the key path that leads to it, so that every check can say where it failed.
struct ConfigNode {
    let node: Node
    let path: String
    let file: String

    var line: Int? { node.mark?.line }

    func error(_ message: String) -> ConfigError {
        ConfigError(file: file, line: line, key: path, message: message)
    }

    func child(_ key: String, _ node: Node) -> ConfigNode {
        ConfigNode(node: node, path: path.isEmpty ? key : "\(path).\(key)", file: file)
    }

    /// The mapping's entries in file order; rejects keys not in `allowed` and repeated keys.
    func mapping(allowed: [String]? = nil) throws(ConfigError) -> [(key: String, value: ConfigNode)] {
        guard let mapping = node.mapping else { throw error("expected a mapping of keys to values") }
        var seen: Set<String> = []
        var out: [(key: String, value: ConfigNode)] = []
        for (k, v) in mapping {
            guard let key = k.scalar?.string else { throw error("keys must be plain names") }
            let keyNode = ConfigNode(node: k, path: path.isEmpty ? key : "\(path).\(key)", file: file)
            if let allowed, !allowed.contains(key) {
                throw keyNode.error("unknown key (expected one of: \(allowed.joined(separator: ", ")))")
            }
            guard seen.insert(key).inserted else { throw keyNode.error("key appears twice") }
            out.append((key, child(key, v)))
        }
        return out
    }

    /// A map of named entries: `features:`, `entities:`.
    func entries() throws(ConfigError) -> [(key: String, value: ConfigNode)] { try mapping() }

    func string() throws(ConfigError) -> String {
        guard let s = node.scalar?.string else { throw error("expected a single value, not a list or mapping") }
        return s
    }

    func nonEmptyString() throws(ConfigError) -> String {
        let s = try string()
        guard !s.trimmingCharacters(in: .whitespaces).isEmpty else { throw error("must not be empty") }
        return s
    }

    func duration() throws(ConfigError) -> Micros {
        let s = try string()
        guard let d = DurationText.parse(s), d > 0 else {
            throw error("'\(s)' is not a duration (use 5m, 1h, 24h, 7d)")
        }
        return d
    }

    func number() throws(ConfigError) -> Double {
        let s = try string()
        guard let x = Double(s), x.isFinite else { throw error("'\(s)' is not a number") }
        return x
    }

    func integer() throws(ConfigError) -> Int {
        let s = try string()
        guard let x = Int(s) else { throw error("'\(s)' is not a whole number") }
        return x
    }

    func bool() throws(ConfigError) -> Bool {
        switch try string() {
        case "true", "yes": return true
        case "false", "no": return false
        case let s: throw error("'\(s)' is not true or false")
        }
    }

    /// A scalar or a list of scalars, as a list.
    func stringList() throws(ConfigError) -> [String] {
        if node.scalar != nil { return [try string()] }
        guard let seq = node.sequence else { throw error("expected a name or a list of names") }
        var out: [String] = []
        for (i, item) in seq.enumerated() {
            out.append(try child("\(i)", item).string())
        }
        return out
    }
}
