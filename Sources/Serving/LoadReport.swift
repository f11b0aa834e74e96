import Foundation
import FsmlCore

/// A load run as JSON (what scripts read) and as a self-contained HTML page with the percentile
/// curve.
public struct LoadReport: Sendable {
    public var url: String
    public var endpoint: String
    public var targetRate: Double
    public var connections: Int
    public var result: LoadGenerator.Result
    /// The highest rate found within the p95 limit, when it was searched.
    public var maxRate: Double?

    public init(
        url: String, endpoint: String, targetRate: Double, connections: Int, result: LoadGenerator.Result,
        maxRate: Double?
    ) {
        (self.url, self.endpoint, self.targetRate, self.connections, self.result, self.maxRate) =
            (url, endpoint, targetRate, connections, result, maxRate)
    }

    /// The percentiles reported, by label.
    public static let percentiles: [(String, Double)] = [
        ("p50", 50), ("p90", 90), ("p95", 95), ("p99", 99), ("p99.9", 99.9),
    ]

    public var errorCount: Int { result.errors.values.reduce(0, +) }

    public var json: JSONValue {
        let r = result
        var fields: [(String, JSONValue)] = [
            ("url", .string(url)), ("endpoint", .string(endpoint)), ("target_rps", .number(targetRate)),
            ("achieved_rps", .number(r.achievedRate)), ("duration_seconds", .number(r.seconds)),
            ("requests", .int(r.sent)), ("connections", .int(connections)),
        ]
        fields += Self.percentiles.map { ("\($0.0)_ms", .number(r.percentile($0.1))) }
        fields.append(("max_ms", .number(r.maxMillis)))
        fields.append(("errors", .object(r.errors.keys.sorted().map { ($0, .int(r.errors[$0]!)) })))
        fields.append(("status", .object(r.statusCounts.keys.sorted().map { (String($0), .int(r.statusCounts[$0]!)) })))
        if let maxRate { fields.append(("max_rps_within_p95_limit", .number(maxRate))) }
        return .object(fields)
    }

    /// The page: a summary, the percentile table, the latency curve with x as "nines"
    /// (1 / (1 − p)) on a log scale as HdrHistogram plots it, the errors.
    public var html: String {
        let r = result
        var curve: [(x: Double, y: Double)] = []
        for p in [0.0, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.95, 99.99] {
            curve.append((log10(1 / (1 - p / 100)), r.percentile(p)))
        }
        let chart = SVGChart.lines(
            title: "Latency by percentile (\(Progress.count(Int(r.achievedRate))) req/s)",
            x: "percentile", y: "ms", series: [ChartSeries(name: endpoint, points: curve)], width: 720, height: 380,
            xTickLabel: Self.percentileLabel)
        let rows =
            Self.percentiles.map { [$0.0, Progress.fixed(r.percentile($0.1), 3)] } + [
                ["max", Progress.fixed(r.maxMillis, 3)]
            ]
        var body = "<h1>fsml bench serve: \(HTML.escape(url))/\(endpoint)</h1>"
        body +=
            "<p class=\"summary\">p50 \(Progress.fixed(r.percentile(50), 2)) ms, p99 \(Progress.fixed(r.percentile(99), 2)) ms, max \(Progress.fixed(r.maxMillis, 2)) ms at \(Progress.fixed(r.achievedRate, 0)) req/s of the \(Progress.count(Int(targetRate))) asked for; \(errorCount == 0 ? "no errors" : "\(errorCount) errors").</p>"
        body +=
            "<p>target \(Progress.count(Int(targetRate))) req/s, achieved \(Progress.fixed(r.achievedRate, 1)) req/s over \(Progress.fixed(r.seconds, 1)) s, \(connections) connections, open loop</p>"
        body += HTML.table(["percentile", "latency ms"], rows) + chart
        body +=
            "<h2>Errors</h2>"
            + HTML.table(["kind", "count"], r.errors.keys.sorted().map { [$0, String(r.errors[$0]!)] })
        return HTML.page(title: "fsml bench serve", body: body)
    }

    /// The percentile at x = log10(1 / (1 − p)): 0 → p0, 1 → p90, 2 → p99, 3 → p99.9.
    public static func percentileLabel(_ x: Double) -> String {
        let p = 100 * (1 - pow(10, -x))
        guard x >= 0 else { return "" }
        var text = String(format: "%.4f", p)
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return "p" + text
    }
}
