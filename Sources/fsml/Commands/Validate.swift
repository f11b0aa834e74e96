import ArgumentParser
import FsmlCore
import PointInTime
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
        let source: DataQualityCheck.Source
        if let events {
            source = .events(path: events)
        } else if offlineStore {
            source = .offlineStore(
                root: offline ?? ProjectPaths.resolve(registry.stores.offline, config: global.configPath))
        } else {
            source = .dataset(path: dataset!)
        }
        let time = try asOf.map { try parseTimeOption($0, "--as-of") } ?? wallClockMicros()
        let results = try DataQualityCheck.run(registry: registry, source: source, asOf: time)
        let json = DataQualityCheck.json(results, data: source.name)
        try FileSystem.createDirectory(out)
        try FileSystem.writeAtomically(JSONText.render(json) + "\n", to: "\(out)/validate.json")
        try FileSystem.writeAtomically(DataQualityCheck.html(results, data: source.name), to: "\(out)/validate.html")
        switch output.format {
        case .json: StandardOutput.write(JSONText.render(json) + "\n")
        case .table:
            var t = TextTable(["COLUMN", "CHECK", "EXPECTED", "OBSERVED", "RESULT"])
            for r in results { t.add([r.column, r.check, r.expected, r.observed, r.passed ? "passed" : "FAILED"]) }
            StandardOutput.write(t.render() + "report: \(out)/validate.html\n")
        }
        let failed = results.filter { !$0.passed }
        if !failed.isEmpty {
            throw CLIError("validate: \(failed.count) of \(results.count) expectations failed on \(source.name)")
        }
    }
}
