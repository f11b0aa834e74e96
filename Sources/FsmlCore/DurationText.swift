/// Durations as people write them in fsml.yaml and on the command line: `500ms`, `30s`, `5m`,
/// `1h`, `24h`, `7d`, and compounds such as `1h30m`. The result is in microseconds.
public enum DurationText {
    public static func parse(_ text: String) -> Micros? {
        let s = Array(text.utf8)
        guard !s.isEmpty else { return nil }
        var i = 0
        var total: Micros = 0
        while i < s.count {
            var value: Micros = 0
            var digits = 0
            while i < s.count, s[i] >= 48, s[i] <= 57 {
                let (m, o1) = value.multipliedReportingOverflow(by: 10)
                let (a, o2) = m.addingReportingOverflow(Micros(s[i] - 48))
                guard !o1, !o2 else { return nil }
                value = a
                digits += 1
                i += 1
            }
            guard digits > 0, i < s.count else { return nil }
            let unit: Micros
            if s[i] == UInt8(ascii: "m"), i + 1 < s.count, s[i + 1] == UInt8(ascii: "s") {
                unit = 1000
                i += 2
            } else {
                switch s[i] {
                case UInt8(ascii: "s"): unit = Timestamp.microsPerSecond
                case UInt8(ascii: "m"): unit = Timestamp.microsPerMinute
                case UInt8(ascii: "h"): unit = Timestamp.microsPerHour
                case UInt8(ascii: "d"): unit = Timestamp.microsPerDay
                default: return nil
                }
                i += 1
            }
            let (v, o3) = value.multipliedReportingOverflow(by: unit)
            let (t, o4) = total.addingReportingOverflow(v)
            guard !o3, !o4 else { return nil }
            total = t
        }
        return total
    }

    /// The shortest text that parses back to `micros`, largest units first (`1h30m`, `7d`, `250ms`).
    public static func format(_ micros: Micros) -> String {
        if micros == 0 { return "0s" }
        var rest = micros
        var out = ""
        for (unit, name) in [
            (Timestamp.microsPerDay, "d"), (Timestamp.microsPerHour, "h"), (Timestamp.microsPerMinute, "m"),
            (Timestamp.microsPerSecond, "s"), (Micros(1000), "ms"),
        ] where rest >= unit {
            out += "\(rest / unit)\(name)"
            rest %= unit
        }
        if rest > 0 { out += "\(rest)us" }
        return out
    }

    /// A duration in seconds rounded to its largest unit, for progress lines: "850ms", "42s", "3h", "22d".
    public static func human(seconds: Double) -> String {
        let a = abs(seconds)
        let sign = seconds < 0 ? "-" : ""
        if a < 1 { return "\(sign)\(Int(a * 1000))ms" }
        for (unit, name) in [(86_400.0, "d"), (3600.0, "h"), (60.0, "m")] where a >= unit {
            return "\(sign)\(Int(a / unit))\(name)"
        }
        return "\(sign)\(Int(a))s"
    }

    /// Words for a duration in descriptions: "5 minutes", "24 hours", "7 days".
    public static func words(_ micros: Micros) -> String {
        for (unit, name) in [
            (Timestamp.microsPerDay, "day"), (Timestamp.microsPerHour, "hour"), (Timestamp.microsPerMinute, "minute"),
            (Timestamp.microsPerSecond, "second"),
        ] where micros >= unit && micros % unit == 0 {
            let n = micros / unit
            return "\(n) \(name)\(n == 1 ? "" : "s")"
        }
        return format(micros)
    }

    /// A rough size for messages, in its largest whole unit, rounded: "7,975 years", "31 days",
    /// "2 hours", "45 seconds".
    public static func approximate(_ micros: Micros) -> String {
        let seconds = Double(micros.magnitude) / 1e6
        let units: [(Double, String)] = [
            (365.2425 * 86_400, "year"), (86_400, "day"), (3600, "hour"), (60, "minute"), (1, "second"),
        ]
        for (size, name) in units where seconds >= size {
            let n = Int((seconds / size).rounded())
            return "\(Progress.count(n)) \(name)\(n == 1 ? "" : "s")"
        }
        return "\(Int((seconds * 1000).rounded())) ms"
    }
}
