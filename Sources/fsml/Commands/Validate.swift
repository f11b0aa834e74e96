import ArgumentParser
import FeatureCore
import Foundation
import FsmlCore
import OfflineStorage
import Parquet
import PointInTime
import Tracking
import Workflows

struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check data-quality expectations, train/serve skew, or drift between datasets.",
        subcommands: [ValidateData.self, ValidateSkew.self, ValidateDrift.self], defaultSubcommand: ValidateData.self)
}

struct ValidateData: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data",
        abstract: "Check fsml.yaml's expectations on events, the offline store or a dataset.",
        discussion: """
            expectations: in fsml.yaml declares per column max_null_rate, min, max, values and unique, and for \
            events max_invalid_rate (lines failing the schema) and freshness (how old the newest event may be at \
            --as-of). Writes validate.json and validate.html to --out; exits 1 when an expectation fails.
            """)

    @Option(help: "An events file (JSONL, .gz read too).") var events: String?
    @Flag(help: "Check the offline store's admitted events.") var offlineStore = false
    @Option(help: "The offline store directory, with --offline-store (default: stores.offline in fsml.yaml).")
    var offline: String?
    @Option(help: "A dataset (.parquet from `fsml build`).") var dataset: String?
    @Option(help: "The validation time for freshness (default: now).") var asOf: String?
    @Option(help: "Where the reports go.") var out = "artifacts/reports"
    @OptionGroup var output: FormatOption
    @OptionGroup var global: GlobalOptions

    func validate() throws {
        if [events != nil, offlineStore, dataset != nil].filter({ $0 }).count != 1 {
            throw ValidationError("give one of --events FILE, --offline-store or --dataset PATH")
        }
        if offline != nil && !offlineStore { throw ValidationError("--offline goes with --offline-store") }
    }

    func run() throws {
        let registry = try global.loadRegistry()
        let expectations = registry.expectations
        guard !expectations.columns.isEmpty || expectations.freshness != nil || expectations.maxInvalidRate != nil
        else {
            throw CLIError("\(registry.source) declares no expectations (an `expectations:` section)")
        }
        var profiler = ColumnProfiler(expectations: expectations)
        let schema = registry.schema
        let fieldOf = profiler.columns.map { schema.index(of: $0) }
        var lines: Int?
        let what: String
        if let events {
            let parser = EventParser(schema: schema)
            let reader = try LineReader(path: events)
            var count = 0
            while let line = try reader.next() {
                count += 1
                switch parser.parse(line) {
                case .failure: profiler.invalid += 1
                case .success(let event): profile(event, &profiler, fieldOf)
                }
            }
            lines = count
            what = events
        } else if offlineStore {
            let store = OfflineStore(
                root: offline ?? ProjectPaths.resolve(registry.stores.offline, config: global.configPath))
            // A store that is not there is an error, not a store of no events that passes.
            guard FileSystem.exists(store.statePath) || (try? store.files().isEmpty) == false else {
                throw CLIError("\(store.root) is not an offline store (no _state.json and no event files)")
            }
            let scanner = try OfflineStoreScanner(store: store, schema: schema)
            while let stored = try scanner.next() { profile(stored.event, &profiler, fieldOf) }
            what = store.root
        } else {
            let reader = try ParquetReader(path: dataset!)
            let present = profiler.columns.enumerated().compactMap { c, name in reader.columnIndex(name).map { (c, $0) }
            }
            for g in reader.rowGroups.indices {
                let data = try reader.read(rowGroup: g, columns: present.map(\.1))
                let rows = data.first?.count ?? reader.rowGroups[g].rows
                let numbers = data.map { DatasetReader.doubles($0) }
                let texts = data.map { c -> [String?]? in
                    if case .byteArray = c.values { DatasetReader.texts(c) } else { nil }
                }
                for r in 0..<rows {
                    profiler.startRow()
                    for (k, (c, _)) in present.enumerated() {
                        if let t = texts[k] {
                            profiler.add(c, number: nil, text: t[r])
                        } else {
                            profiler.add(c, number: numbers[k][r].isNaN ? nil : numbers[k][r], text: nil)
                        }
                    }
                }
            }
            what = dataset!
        }
        let time = try asOf.map { try parseTimeOption($0, "--as-of") } ?? wallClockMicros()
        let results = profiler.results(asOf: time, lines: lines)
        try report(results, what: what)
        let failed = results.filter { !$0.passed }
        if !failed.isEmpty {
            throw CLIError("validate: \(failed.count) of \(results.count) expectations failed on \(what)")
        }
    }

    private func profile(_ event: Event, _ profiler: inout ColumnProfiler, _ fieldOf: [Int?]) {
        profiler.startRow()
        profiler.newest = max(profiler.newest ?? .min, event.time)
        for (c, f) in fieldOf.enumerated() { profiler.add(c, f.map { event.values[$0] } ?? .missing) }
    }

    private func report(_ results: [ExpectationResult], what: String) throws {
        let json = JSONValue.object([
            ("data", .string(what)), ("passed", .bool(results.allSatisfy(\.passed))),
            (
                "expectations",
                .array(
                    results.map {
                        .object([
                            ("column", .string($0.column)), ("check", .string($0.check)),
                            ("expected", .string($0.expected)),
                            ("observed", .string($0.observed)), ("passed", .bool($0.passed)),
                        ])
                    })
            ),
        ])
        try FileSystem.createDirectory(out)
        try FileSystem.writeAtomically(JSONText.render(json) + "\n", to: "\(out)/validate.json")
        var classes: [[Int]: String] = [:]
        for (i, r) in results.enumerated() { classes[[i, 4]] = r.passed ? "passed" : "failed" }
        let failing = results.filter { !$0.passed }
        let summary =
            failing.isEmpty
            ? "All \(results.count) expectations met."
            : "<b>\(failing.count) of \(results.count) expectations failed</b>: "
                + HTML.escape(failing.map { "\($0.column) \($0.check) (\($0.observed))" }.joined(separator: "; ")) + "."
        let body =
            "<h1>Data quality: \(HTML.escape(what))</h1><p class=\"summary\">\(summary)</p>"
            + HTML.table(
                ["column", "check", "expected", "observed", "result"],
                results.map { [$0.column, $0.check, $0.expected, $0.observed, $0.passed ? "passed" : "FAILED"] },
                left: [0, 1, 2, 3, 4], classes: classes)
        try FileSystem.writeAtomically(HTML.page(title: "fsml validate", body: body), to: "\(out)/validate.html")
        switch output.format {
        case .json: StandardOutput.write(JSONText.render(json) + "\n")
        case .table:
            var t = TextTable(["COLUMN", "CHECK", "EXPECTED", "OBSERVED", "RESULT"])
            for r in results { t.add([r.column, r.check, r.expected, r.observed, r.passed ? "passed" : "FAILED"]) }
            StandardOutput.write(t.render() + "report: \(out)/validate.html\n")
        }
    }
}

struct ValidateSkew: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "skew",
        abstract: "The served-feature log against a run's training set: PSI, KS and missing rates per feature.",
        discussion: """
            PSI counts missing values as a bin of their own. Flags a feature whose PSI or KS statistic is over \
            its threshold, or whose missing rate changed by more than --missing-change; exits 1 when one is flagged.
            """)

    @Option(name: .customLong("run"), help: "The run whose training set is the reference.") var runReference: String
    @Option(help: "The served-feature log folder (default: data/served beside fsml.yaml).") var served: String?
    @Option(help: "PSI over this is flagged.") var psi = 0.2
    @Option(help: "KS over this is flagged.") var ks = 0.1
    @Option(help: "A change of the missing rate over this (a fraction: 0.1 is ten points) is flagged.")
    var missingChange = 0.1
    @Option(help: "Where the reports go.") var out = "artifacts/reports"
    @OptionGroup var tracking: TrackingOptions
    @OptionGroup var output: FormatOption
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let r = try tracking.store.findRun(runReference)
        guard let datasetPath = r.params["dataset"], datasetPath.hasSuffix(".parquet") else {
            throw CLIError("run \(r.id) was not trained on a Parquet dataset; skew needs its training set")
        }
        let reader = try ParquetReader(path: datasetPath)
        let folder = served ?? ProjectPaths.resolve("data/served", config: global.configPath)
        var servedValues: [String: [Double]] = [:]
        var servedRows = 0
        for file in ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted()
        where file.hasSuffix(".jsonl") {
            let lines = try LineReader(path: "\(folder)/\(file)")
            while let line = try lines.next() {
                guard let node = try? JSONParser.parse(Array(line)), let features = node["features"]?.object else {
                    continue
                }
                servedRows += 1
                for (k, v) in features { servedValues[k, default: []].append(v.double ?? .nan) }
            }
        }
        guard servedRows > 0 else {
            throw CLIError("\(folder) holds no served feature vectors (fsml serve --log-sample)")
        }
        var results: [SkewResult] = []
        for name in servedValues.keys.sorted() {
            guard let c = reader.columnIndex(name) else { continue }
            var train: [Double] = []
            for g in reader.rowGroups.indices {
                train += DatasetReader.doubles(try reader.read(rowGroup: g, columns: [c])[0])
            }
            results.append(Skew.compare(feature: name, train: train, served: servedValues[name]!))
        }
        let limits = SkewLimits(psi: psi, ks: ks, missingRateChange: missingChange)
        let flagged = results.filter { !$0.reasons(limits).isEmpty }
        let json = JSONValue.object([
            ("run_id", .string(r.id)), ("dataset", .string(datasetPath)), ("served_rows", .int(servedRows)),
            ("psi_threshold", .number(psi)), ("ks_threshold", .number(ks)),
            ("missing_change_threshold", .number(missingChange)), ("passed", .bool(flagged.isEmpty)),
            ("flagged", .array(flagged.map { .string($0.feature) })),
            (
                "features",
                .array(
                    results.map { s in
                        .object([
                            ("feature", .string(s.feature)), ("psi", .number(s.psi)), ("ks", .number(s.ks)),
                            ("train_missing_rate", .number(s.trainMissingRate)),
                            ("served_missing_rate", .number(s.servedMissingRate)),
                            ("flagged", .bool(!s.reasons(limits).isEmpty)),
                            ("reasons", .array(s.reasons(limits).map { .string($0) })),
                        ])
                    })
            ),
        ])
        try FileSystem.createDirectory(out)
        try FileSystem.writeAtomically(JSONText.render(json) + "\n", to: "\(out)/skew.json")
        let rows = results.map {
            [
                $0.feature, Progress.fixed($0.psi, 4), Progress.fixed($0.ks, 4), Progress.fixed($0.trainMissingRate, 3),
                Progress.fixed($0.servedMissingRate, 3),
                $0.reasons(limits).isEmpty ? "ok" : "FLAGGED: " + $0.reasons(limits).joined(separator: "; "),
            ]
        }
        let header = ["feature", "PSI", "KS", "missing (train)", "missing (served)", "result"]
        try FileSystem.writeAtomically(
            HTML.page(
                title: "fsml skew",
                body:
                    "<h1>Train/serve skew: run \(HTML.escape(r.name))</h1><p>\(servedRows) served vectors against \(HTML.escape(datasetPath))</p>"
                    + "<p class=\"summary\">"
                    + (flagged.isEmpty
                        ? "No feature over the thresholds."
                        : "<b>\(flagged.count) of \(results.count) features flagged</b>: "
                            + HTML.escape(flagged.map(\.feature).joined(separator: ", ")) + ".")
                    + " Thresholds: PSI \(psi), KS \(ks), missing rate change \(missingChange).</p>"
                    + SVGChart.bars(
                        title: "PSI per feature", labels: results.map(\.feature), values: results.map(\.psi))
                    + HTML.table(header, rows)), to: "\(out)/skew.html")
        switch output.format {
        case .json: StandardOutput.write(JSONText.render(json) + "\n")
        case .table:
            var t = TextTable(header.map { $0.uppercased() }, rightAligned: [1, 2, 3, 4])
            for row in rows { t.add(row) }
            StandardOutput.write(t.render() + "report: \(out)/skew.html\n")
        }
        if !flagged.isEmpty {
            throw CLIError(
                "skew: \(flagged.map(\.feature).joined(separator: ", ")) over the thresholds (PSI \(psi), KS \(ks), missing rate change \(missingChange))"
            )
        }
    }
}
