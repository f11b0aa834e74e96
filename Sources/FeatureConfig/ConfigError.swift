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
        if !key.isEmpty { out += "\(key): " }
        return out + message
    }
}
