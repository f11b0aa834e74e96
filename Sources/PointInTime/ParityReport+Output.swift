import FsmlCore

extension ParityReport {
    /// The report as JSON: the totals, whether it passed `threshold` (a mismatch rate per feature),
    /// the keys sampled per entity, each feature's counts and examples of mismatches.
    public func json(threshold: Double, store: String, seconds: Double) -> JSONValue {
        let r = self
        return .object([
            ("as_of", .string(Timestamp.format(r.asOf))), ("online_store", .string(store)),
            ("threshold", .number(threshold)), ("compared", .int(r.compared)), ("mismatches", .int(r.mismatches)),
            ("passed", .bool(r.mismatches == 0 || r.worstRate < threshold)), ("seconds", .number(seconds)),
            ("events_replayed", .int(r.eventsReplayed)),
            (
                "sampled",
                .object(r.sampled.map { ($0.entity, .object([("keys", .int($0.keys)), ("of", .int($0.ofKeys))])) })
            ),
            (
                "features",
                .array(
                    r.features.map { f in
                        .object([
                            ("name", .string(f.name)), ("entity", .string(f.entity)), ("compared", .int(f.compared)),
                            ("mismatches", .int(f.mismatches)), ("mismatch_rate", .number(f.mismatchRate)),
                            ("max_abs_diff", .number(f.maxAbsDiff)),
                            (
                                "examples",
                                .array(
                                    f.examples.map {
                                        .object([
                                            ("key", .string($0.key)), ("online", .number($0.online)),
                                            ("offline", .number($0.offline)),
                                        ])
                                    })
                            ),
                        ])
                    })
            ),
        ])
    }

    /// The report as a page: the verdict, the keys sampled, the features that differ (charted), examples.
    public func html(threshold: Double, store: String) -> String {
        let r = self
        let passed = r.mismatches == 0 || r.worstRate < threshold
        var b = "<h1>Parity: online against point-in-time offline</h1>"
        b += "<p>as of \(Timestamp.format(r.asOf)); online store \(HTML.escape(store)); "
        b += "\(Progress.count(r.compared)) values compared, <b>\(Progress.count(r.mismatches)) mismatches</b> — "
        b += passed ? "passed" : "FAILED"
        b += " (threshold \(Progress.fixed(threshold * 100, 2)) % per feature)</p>"
        b += HTML.table(
            ["entity", "sampled", "of keys"],
            r.sampled.map { [$0.entity, Progress.count($0.keys), Progress.count($0.ofKeys)] })
        // With no mismatch, a chart of rates would be bars of zero: the sentence says it all.
        if r.mismatches == 0 {
            b += "<p class=\"summary\">Every one of the \(Progress.count(r.compared)) values compared is equal, "
            b += "in all \(r.features.count) features.</p>"
        } else {
            let worst = r.features.filter { $0.mismatches > 0 }.sorted { $0.mismatchRate > $1.mismatchRate }
            b += "<p class=\"summary\">\(worst.count) of \(r.features.count) features differ; the worst, "
            b +=
                "\(HTML.escape(worst[0].name)), in \(Progress.fixed(worst[0].mismatchRate * 100, 3)) % of its values.</p>"
            b += SVGChart.bars(
                title: "Mismatch rate per feature (%), features that differ", labels: worst.map(\.name),
                values: worst.map { $0.mismatchRate * 100 })
        }
        b += HTML.table(
            ["feature", "entity", "compared", "mismatches", "rate %", "max |diff|"],
            r.features.map {
                [
                    $0.name, $0.entity, Progress.count($0.compared), Progress.count($0.mismatches),
                    Progress.fixed($0.mismatchRate * 100, 3), "\($0.maxAbsDiff)",
                ]
            }, left: [0, 1])
        let examples = r.features.flatMap { f in f.examples.map { [f.name, $0.key, "\($0.online)", "\($0.offline)"] } }
        if !examples.isEmpty {
            b += "<h2>Examples</h2>" + HTML.table(["feature", "key", "online", "offline"], examples, left: [0, 1])
        }
        return HTML.page(title: "fsml parity", body: b)
    }
}
