import Foundation

/// What names and keys may be: the rules MLflow's validation applies, and no path tricks, since
/// every name becomes a file or folder name.
public enum TrackingNames {
    public struct Invalid: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    /// An experiment or run name: 1–250 characters, no control characters, no `/`, not `.`/`..`.
    public static func validateName(_ name: String, what: String) throws {
        if name.isEmpty { throw Invalid(description: "\(what) must not be empty") }
        if name.count > 250 { throw Invalid(description: "\(what) is longer than 250 characters") }
        if name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            throw Invalid(description: "\(what) \(debugQuoted(name)) contains a control character")
        }
        if name.contains("/") || name.contains("\\") || name == "." || name == ".." {
            throw Invalid(description: "\(what) \(debugQuoted(name)) must not contain a path separator or be . or ..")
        }
    }

    /// A param, metric or tag key: MLflow's alphabet (letters, digits, `_ - . space /`), at most 250
    /// characters, no empty path component and no `..`, so it stays inside the run's folder.
    public static func validateKey(_ key: String, what: String) throws {
        if key.isEmpty || key.utf8.count > 250 {
            throw Invalid(description: "\(what) key must have 1 to 250 characters")
        }
        let allowed = key.unicodeScalars.allSatisfy {
            ($0.isASCII && (CharacterSet.alphanumerics.contains($0))) || "_-. /".unicodeScalars.contains($0)
        }
        let parts = key.split(separator: "/", omittingEmptySubsequences: false)
        if !allowed || parts.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }) {
            throw Invalid(
                description:
                    "\(what) key \(debugQuoted(key)) may hold only letters, digits, '_', '-', '.', ' ' and '/' between names"
            )
        }
    }

    /// A metric's key as MLflow takes it: `ndcg@5` becomes `ndcg_at_5` ('@' is outside its alphabet).
    public static func metricKey(_ name: String) -> String {
        name.replacingOccurrences(of: "@", with: "_at_")
    }

    /// A key made from free text (a segment value): characters outside the key alphabet become `_`.
    public static func keySafe(_ text: String) -> String {
        let mapped = text.unicodeScalars.map { s -> Character in
            (s.isASCII && CharacterSet.alphanumerics.contains(s)) || s == "_" || s == "-" || s == "."
                ? Character(s) : "_"
        }
        let s = String(mapped).prefix(60)
        return s.isEmpty || s == "." || s == ".." ? "_" : String(s)
    }

    /// A run id: 32 lowercase hex digits, like MLflow's uuid4().hex.
    public static func newRunID() -> String {
        var g = SystemRandomNumberGenerator()
        return (0..<4).map { _ in String(format: "%08x", UInt32.random(in: .min ... .max, using: &g)) }.joined()
    }

    /// An experiment id: a random 18-digit number, as MLflow 3 makes them.
    public static func newExperimentID() -> String {
        var g = SystemRandomNumberGenerator()
        return String(UInt64.random(in: 100_000_000_000_000_000...999_999_999_999_999_999, using: &g))
    }

    /// MLflow's reader accepts ids matching `^[a-zA-Z0-9][\w\-]{0,63}$` (experiments) and up to 255
    /// (runs); fsml refuses anything else before it touches the file system.
    public static func isValidID(_ id: String, maxLength: Int = 64) -> Bool {
        guard let first = id.unicodeScalars.first, id.utf8.count <= maxLength else { return false }
        func word(_ s: Unicode.Scalar) -> Bool { s.isASCII && (CharacterSet.alphanumerics.contains(s) || s == "_") }
        return word(first) && first != "_" && id.unicodeScalars.allSatisfy { word($0) || $0 == "-" }
    }

    static func debugQuoted(_ s: String) -> String { String(reflecting: s) }
}
