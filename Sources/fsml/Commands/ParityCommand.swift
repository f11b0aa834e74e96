import ArgumentParser
import FeatureCore
import FsmlCore
import OfflineStorage
import OnlineStorage
import PointInTime
import Workflows

struct ParityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parity",
        abstract: "Online against offline: every feature of sampled entities, as of one instant.",
        discussion: """
            For --sample entities of each kind in the online store, every feature's online value (the stored state \
            evaluated as the server does) is compared with its point-in-time value replayed from the offline store at \
            the same instant (default: just after the stream's clock). Writes parity.json and parity.html to --out; \
            exits 1 when a feature's mismatch rate reaches --threshold.
            """)

    @Option(help: "Entities sampled per kind.") var sample = 1000
    @Option(help: "The instant compared, ISO-8601 UTC (default: just after the stream's clock).") var asOf: String?
    @Option(help: "The mismatch rate per feature that fails the check.") var threshold = 0.005
    @Option(help: "The online store (default: stores.online in fsml.yaml).") var online: String?
    @Option(help: "The offline store directory (default: stores.offline).") var offline: String?
    @Option(help: "Where the reports go.") var out = "artifacts/reports"
    @OptionGroup var output: FormatOption
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let registry = try global.loadRegistry()
        let store = try ProjectStores.online(online, registry: registry, config: global.configPath)
        let offlineStore = OfflineStore(
            root: offline ?? ProjectPaths.resolve(registry.stores.offline, config: global.configPath))
        let time = try asOf.map { try parseTimeOption($0, "--as-of") }
        let started = monotonicNanos()
        let report = try Parity.run(
            registry: registry, online: store, offline: offlineStore, sample: sample, asOf: time,
            progress: Progress("parity"))
        let seconds = Double(monotonicNanos() - started) / 1e9
        let json = Self.json(report, threshold: threshold, store: store.description, seconds: seconds)
        try FileSystem.createDirectory(out)
        try FileSystem.writeAtomically(JSONText.render(json) + "\n", to: "\(out)/parity.json")
        try FileSystem.writeAtomically(
            Self.html(report, threshold: threshold, store: store.description), to: "\(out)/parity.html")
        switch output.format {
        case .json: StandardOutput.write(JSONText.render(json) + "\n")
        case .table:
            var t = TextTable(
                ["FEATURE", "ENTITY", "COMPARED", "MISMATCHES", "RATE", "MAX |DIFF|"], rightAligned: [2, 3, 4, 5])
            for f in report.features {
                t.add([
                    f.name, f.entity, Progress.count(f.compared), Progress.count(f.mismatches),
                    Progress.fixed(f.mismatchRate * 100, 3) + " %", f.mismatches > 0 ? "\(f.maxAbsDiff)" : "0",
                ])
            }
            StandardOutput.write(t.render())
            StandardOutput.write(
                "as of \(Timestamp.format(report.asOf)): \(Progress.count(report.compared)) values, \(Progress.count(report.mismatches)) mismatches; report: \(out)/parity.html\n"
            )
        }
        if report.worstRate >= threshold && report.mismatches > 0 {
            throw CLIError(
                "parity: a feature's mismatch rate reached \(Progress.fixed(report.worstRate * 100, 3)) % (threshold \(Progress.fixed(threshold * 100, 3)) %)"
            )
        }
    }

    static func json(_ r: ParityReport, threshold: Double, store: String, seconds: Double) -> JSONValue {
        .object([
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

    static func html(_ r: ParityReport, threshold: Double, store: String) -> String {
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
