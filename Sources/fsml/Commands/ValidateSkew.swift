import ArgumentParser
import FsmlCore
import PointInTime
import Workflows

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
        let check = try SkewCheck(
            run: try tracking.store.findRun(runReference),
            servedFolder: served ?? ProjectPaths.resolve("data/served", config: global.configPath),
            limits: SkewLimits(psi: psi, ks: ks, missingRateChange: missingChange))
        try FileSystem.createDirectory(out)
        try FileSystem.writeAtomically(JSONText.render(check.json) + "\n", to: "\(out)/skew.json")
        try FileSystem.writeAtomically(check.html, to: "\(out)/skew.html")
        switch output.format {
        case .json: StandardOutput.write(JSONText.render(check.json) + "\n")
        case .table:
            var t = TextTable(SkewCheck.header.map { $0.uppercased() }, rightAligned: [1, 2, 3, 4])
            for row in check.rows { t.add(row) }
            StandardOutput.write(t.render() + "report: \(out)/skew.html\n")
        }
        let flagged = check.flagged
        if !flagged.isEmpty {
            throw CLIError(
                "skew: \(flagged.map(\.feature).joined(separator: ", ")) over the thresholds (\(check.thresholds))")
        }
    }
}
