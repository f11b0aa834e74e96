import FsmlCore

/// The Date header's value (RFC 9110 IMF-fixdate), formatted once per second.
struct HTTPDate {
    private var second = 0
    private var text = ""
    private static let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    mutating func now() -> String {
        let t = Int(wallClockMicros() / 1_000_000)
        guard t != second else { return text }
        second = t
        text = Self.format(second: t)
        return text
    }

    /// The text for a time in seconds since 1970-01-01T00:00:00Z.
    static func format(second t: Int) -> String {
        let days = t / 86_400
        let secs = t % 86_400
        let (year, month, day) = Timestamp.civilFromDays(days)
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : String(v) }
        return "\(Self.days[(days % 7 + 11) % 7]), \(two(day)) \(Self.months[month - 1]) \(year) "
            + "\(two(secs / 3600)):\(two(secs % 3600 / 60)):\(two(secs % 60)) GMT"
    }
}
