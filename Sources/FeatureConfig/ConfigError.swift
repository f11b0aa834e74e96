import FeatureCore

/// A fault in fsml.yaml, located by file, line and key path:
/// `fsml.yaml:14: features.user_cr_24h.window: '24x' is not a duration (use 5m, 1h, 24h, 7d)`.
public struct ConfigError: Error, Equatable, Sendable, CustomStringConvertible {
    public let file: String
    public let line: Int?
    public let key: String
    public let message: String

    public init(file: String, line: Int?, key: String, message: String) {
        self.file = file
        self.line = line
        self.key = key
        self.message = message
    }

    public var description: String {
        var out = file
        if let line { out += ":\(line)" }
        out += ": "
        if !key.isEmpty { out += "\(Self.printable(key, limit: 200)): " }
        return out + Self.printable(message, limit: 400)
    }

    /// Text safe to print: control characters escaped, and at most `limit` characters (a value
    /// quoted in a message can be a whole pasted file).
    static func printable(_ text: String, limit: Int) -> String {
        var out = ""
        var count = 0
        for scalar in text.unicodeScalars {
            guard count < limit else { return out + "…" }
            if scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) {
                out += scalar == "\n" ? "\\n" : scalar == "\t" ? "\\t" : "\\u{\(String(scalar.value, radix: 16))}"
            } else {
                out.unicodeScalars.append(scalar)
            }
            count += 1
        }
        return out
    }
}
