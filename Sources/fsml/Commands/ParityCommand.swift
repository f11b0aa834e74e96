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
        let json = report.json(threshold: threshold, store: store.description, seconds: seconds)
        try FileSystem.createDirectory(out)
        try FileSystem.writeAtomically(JSONText.render(json) + "\n", to: "\(out)/parity.json")
        try FileSystem.writeAtomically(
            report.html(threshold: threshold, store: store.description), to: "\(out)/parity.html")
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
}
