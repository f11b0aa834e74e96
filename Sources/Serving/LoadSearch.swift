import FsmlCore

/// Runs of a load generator at rates chosen one after another: the rate asked for, and the search
/// for the highest rate whose p95 meets a limit.
public struct LoadSearch: Sendable {
    public var host: String
    public var port: Int
    public var connections: Int
    /// Seconds per run.
    public var duration: Double
    public var traffic: LoadTraffic

    public init(host: String, port: Int, connections: Int, duration: Double, traffic: LoadTraffic) {
        (self.host, self.port, self.connections, self.duration, self.traffic) =
            (host, port, connections, duration, traffic)
    }

    /// One run at `rate`, its percentiles logged.
    public func load(_ rate: Double) -> LoadGenerator.Result {
        let traffic = self.traffic
        let r = LoadGenerator(
            host: host, port: port, rate: rate, duration: duration, connections: connections,
            request: { traffic.request($0) }
        ).run()
        StandardError.line(
            "bench serve: \(Progress.count(Int(rate))) req/s for \(Progress.fixed(duration, 0)) s: p50 \(Progress.fixed(r.percentile(50), 2)) ms, p95 \(Progress.fixed(r.percentile(95), 2)) ms, p99 \(Progress.fixed(r.percentile(99), 2)) ms, errors \(r.errors.values.reduce(0, +))"
        )
        return r
    }

    /// A rate passes when p95 meets the limit, errors stay under 1 % and the server kept up.
    static func passes(_ r: LoadGenerator.Result, rate: Double, p95LimitMillis: Double) -> Bool {
        r.percentile(95) <= p95LimitMillis && Double(r.errors.values.reduce(0, +)) <= 0.01 * Double(r.sent)
            && r.achievedRate >= 0.9 * rate
    }

    /// The highest rate that passes, from a first run at `rate` (`first`): doubled until a rate
    /// fails, then four bisections; with a final run at that rate (nil when none passed).
    public func findMax(
        from rate: Double, first: LoadGenerator.Result, p95LimitMillis: Double
    ) -> (
        rate: Double, result: LoadGenerator.Result
    ) {
        var good = Self.passes(first, rate: rate, p95LimitMillis: p95LimitMillis) ? rate : 0
        var bad: Double? = good == 0 ? rate : nil
        var next = rate
        while bad == nil && next < 1_000_000 {
            next *= 2
            if Self.passes(load(next), rate: next, p95LimitMillis: p95LimitMillis) { good = next } else { bad = next }
        }
        for _ in 0..<4 {
            guard let b = bad, b - good > max(50, good * 0.05) else { break }
            let mid = (good + b) / 2
            if Self.passes(load(mid), rate: mid, p95LimitMillis: p95LimitMillis) { good = mid } else { bad = mid }
        }
        return (good, good > 0 ? load(good) : first)
    }
}
