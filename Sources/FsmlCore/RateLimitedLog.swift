/// A log line that can repeat many times a second (one per request) written at most once per
/// interval, with the number it stands for.
public final class RateLimitedLog: @unchecked Sendable {
    private let interval: UInt64
    private let lock = NSLockLite()
    private var last: UInt64 = 0
    private var suppressed = 0

    public init(seconds: Double) { interval = UInt64(seconds * 1e9) }

    /// Writes `text` to stderr unless a line went out less than the interval ago.
    public func line(_ text: @autoclosure () -> String) {
        let now = monotonicNanos()
        let more: Int? = lock.withLock {
            if last != 0 && now - last < interval {
                suppressed += 1
                return nil
            }
            last = now
            defer { suppressed = 0 }
            return suppressed
        }
        guard let more else { return }
        StandardError.line(text() + (more > 0 ? " (and \(more) more like it since the last)" : ""))
    }
}
