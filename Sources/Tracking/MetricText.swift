import FsmlCore

/// Metric values as tables and reports show them.
public enum MetricText {
    /// A whole number as it is, anything else to four decimals; "-" for none or not finite.
    public static func format(_ x: Double?) -> String {
        guard let x, x.isFinite else { return "-" }
        return x == x.rounded() && abs(x) < 1e9 ? String(Int(x)) : Progress.fixed(x, 4)
    }

    /// A difference with its sign (a true minus sign), to four decimals.
    public static func signed(_ x: Double) -> String { (x >= 0 ? "+" : "−") + Progress.fixed(abs(x), 4) }
}
