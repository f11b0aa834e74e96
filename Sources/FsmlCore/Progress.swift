/// Progress for long work: on a terminal one line rewritten in place; otherwise a plain log line
/// at most every `logInterval` seconds, so logs in CI stay readable.
public final class Progress: @unchecked Sendable {
    private let label: String
    private let total: Int?
    private let isTerminal: Bool
    private let minInterval: UInt64
    private let started = monotonicNanos()
    private var lastShown: UInt64 = 0
    private let lock = NSLockLite()
    public var enabled = true

    public init(_ label: String, total: Int? = nil, logInterval: Double = 5) {
        self.label = label
        self.total = total
        isTerminal = StandardError.isTerminal
        minInterval = isTerminal ? 100_000_000 : UInt64(logInterval * 1e9)
    }

    public var elapsedSeconds: Double { Double(monotonicNanos() - started) / 1e9 }

    /// Whether an `update` now would be shown (to skip building its detail when not).
    public var isDue: Bool { enabled && monotonicNanos() - lock.withLock({ lastShown }) >= minInterval }

    /// Reports `done` units; `detail` is appended (rates, counters).
    public func update(_ done: Int, detail: String = "") {
        guard enabled else { return }
        let now = monotonicNanos()
        lock.withLock {
            guard now - lastShown >= minInterval else { return }
            lastShown = now
            show(done, detail: detail, final: false)
        }
    }

    /// The last report, always shown.
    public func finish(_ done: Int, detail: String = "") {
        guard enabled else { return }
        lock.withLock { show(done, detail: detail, final: true) }
    }

    private func show(_ done: Int, detail: String, final: Bool) {
        let seconds = elapsedSeconds
        var text = "\(label): \(Progress.count(done))"
        if let total, total > 0 {
            let pct = Double(done) / Double(total) * 100
            text += "/\(Progress.count(total)) (\(Progress.fixed(pct, 1))%)"
        }
        text += " in \(Progress.fixed(seconds, 1)) s"
        if seconds > 0 { text += ", \(Progress.count(Int(Double(done) / seconds)))/s" }
        if !detail.isEmpty { text += ", \(detail)" }
        if isTerminal {
            StandardError.write("\r\u{1B}[2K" + text + (final ? "\n" : ""))
        } else {
            StandardError.line(text)
        }
    }

    /// 1234567 → "1,234,567".
    public static func count(_ n: Int) -> String {
        let digits = String(n.magnitude)
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return n < 0 ? "-" + out : out
    }

    /// Fixed-point text without Foundation's locale-dependent formatting.
    public static func fixed(_ x: Double, _ decimals: Int) -> String {
        guard x.isFinite else { return x.isNaN ? "nan" : (x > 0 ? "inf" : "-inf") }
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let scaled = (abs(x) * scale).rounded()
        let intPart = Int(scaled / scale)
        var text = (x < 0 && scaled > 0 ? "-" : "") + String(intPart)
        if decimals > 0 {
            let frac = Int(scaled - Double(intPart) * scale)
            let f = String(frac)
            text += "." + String(repeating: "0", count: decimals - f.count) + f
        }
        return text
    }
}
