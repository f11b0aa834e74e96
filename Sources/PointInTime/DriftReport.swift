import FsmlCore

/// The drift between two datasets, column by column, and the verdict: drift in at least
/// `driftShare` of the columns (Evidently's dataset drift), or any column that vanished.
public struct DriftReport: Sendable {
    public var reference: String
    public var current: String
    public var results: [DriftResult]
    public var driftShare: Double

    public init(reference: String, current: String, results: [DriftResult], driftShare: Double) {
        self.reference = reference
        self.current = current
        self.results = results
        self.driftShare = driftShare
    }

    public var drifted: [DriftResult] { results.filter(\.drifted) }
    public var vanished: [DriftResult] { results.filter(\.vanished) }
    public var shareDrifted: Double { results.isEmpty ? 0 : Double(drifted.count) / Double(results.count) }
    public var passed: Bool { vanished.isEmpty && !(shareDrifted >= driftShare && !drifted.isEmpty) }

    /// One sentence: the verdict and what to look at first.
    public var summary: String {
        var s =
            "\(drifted.count) of \(results.count) columns drifted (\(String(format: "%.0f", shareDrifted * 100)) %; dataset drift from \(String(format: "%.0f", driftShare * 100)) %)"
        if !vanished.isEmpty {
            s += "; missing in every row on one side: \(vanished.map(\.column).joined(separator: ", "))"
        }
        let loudest = drifted.filter { !$0.vanished }.prefix(3).map(\.column)
        if !loudest.isEmpty { s += "; look first at \(loudest.joined(separator: ", "))" }
        return s + ". " + (passed ? "Passed." : "FAILED.")
    }

    public func json() -> JSONValue {
        .object([
            ("reference", .string(reference)), ("current", .string(current)), ("passed", .bool(passed)),
            ("drift_share", .number(driftShare)), ("share_drifted", .number(shareDrifted)),
            ("flagged", .array(drifted.map { .string($0.column) })),
            (
                "features",
                .array(
                    results.map { r in
                        .object([
                            ("feature", .string(r.column)),
                            ("type", .string(r.categorical ? "categorical" : "numerical")),
                            ("test", .string(r.test.rawValue)), ("statistic", .number(r.statistic)),
                            ("threshold", .number(r.threshold)), ("reference_rows", .int(r.referenceRows)),
                            ("current_rows", .int(r.currentRows)),
                            ("reference_missing_rate", .number(r.referenceMissingRate)),
                            ("current_missing_rate", .number(r.currentMissingRate)), ("flagged", .bool(r.drifted)),
                            ("reasons", .array(r.reasons.map { .string($0) })),
                        ])
                    })
            ),
        ])
    }

    /// The table rows, drifted columns first, as the text table and the HTML show them.
    public var rows: [[String]] {
        results.sorted { ($0.drifted ? 0 : 1, $0.column) < ($1.drifted ? 0 : 1, $1.column) }.map { r in
            [
                r.column, r.categorical ? "categorical" : "numerical", r.test.rawValue,
                String(format: "%.4g", r.statistic), String(format: "%g", r.threshold),
                String(format: "%.1f", r.referenceMissingRate * 100),
                String(format: "%.1f", r.currentMissingRate * 100),
                r.drifted ? "DRIFT: " + r.reasons.joined(separator: "; ") : "ok",
            ]
        }
    }

    public static let header = [
        "feature", "type", "test", "statistic", "threshold", "missing % (reference)", "missing % (current)", "result",
    ]

    public func html() -> String {
        var b = "<h1>Data drift</h1><p class=\"muted\">reference \(HTML.escape(reference)) · current "
        b += "\(HTML.escape(current))</p><p class=\"summary\">\(HTML.escape(summary))</p>"
        // Each statistic as a share of its threshold, so that p-values and distances read alike:
        // above 1 is drift.
        let ratios = results.map { r in
            r.vanished ? 10 : r.test.isPValue ? r.threshold / max(r.statistic, 1e-12) : r.statistic / r.threshold
        }
        let order = results.indices.sorted { ratios[$0] > ratios[$1] }
        b += SVGChart.bars(
            title: "Drift per feature: statistic against threshold (over 1 is drift, capped at 10)",
            labels: order.map { results[$0].column }, values: order.map { min(ratios[$0], 10) })
        var classes: [[Int]: String] = [:]
        for (i, row) in rows.enumerated() where row.last != "ok" { classes[[i, Self.header.count - 1]] = "failed" }
        b += HTML.table(Self.header, rows, left: [0, 1, 2, 7], classes: classes)
        return HTML.page(title: "fsml drift", body: b)
    }
}
