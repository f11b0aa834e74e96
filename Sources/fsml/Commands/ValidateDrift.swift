import ArgumentParser
import FsmlCore
import Parquet
import PointInTime

struct ValidateDrift: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drift",
        abstract:
            "Per-feature drift between a reference and a current dataset (Parquet), tests chosen as Evidently does.",
        discussion: """
            On a reference of at most 1,000 values: Kolmogorov-Smirnov for numbers, a z-test for two categories, \
            chi-squared for more (drift when p < 0.05). On larger ones: the Wasserstein distance over the \
            reference's standard deviation for numbers, the Jensen-Shannon distance for categories (drift from \
            0.1). Numbers with at most five distinct values are categories. A missing rate that moves by more than \
            --missing-change is drift too, and a feature missing in every row on one side fails the check \
            whatever the share. Writes drift.json and drift.html to --out; exits 1 on dataset drift.
            """)

    @Option(help: "The reference dataset (.parquet), e.g. a run's training set.") var reference: String
    @Option(help: "The current dataset (.parquet), e.g. a later build or served vectors.") var current: String
    @Option(help: "Columns to compare (comma-separated; default: the reference manifest's features, else all shared).")
    var columns: String?
    @Option(help: "A p-value or distance threshold for every test, in place of each test's own.") var threshold: Double?
    @Option(help: "A change of the missing rate over this (a fraction) is drift.") var missingChange = 0.1
    @Option(help: "Dataset drift when at least this share of the columns drifted.") var driftShare = 0.5
    @Option(help: "Where the reports go.") var out = "artifacts/reports"
    @OptionGroup var output: FormatOption

    func validate() throws {
        if !(0...1).contains(driftShare) { throw ValidationError("--drift-share is a fraction between 0 and 1") }
        if missingChange < 0 { throw ValidationError("--missing-change must be at least 0") }
    }

    func run() throws {
        let referenceReader = try ParquetReader(path: reference)
        let currentReader = try ParquetReader(path: current)
        let names =
            columns.map { $0.split(separator: ",").map(String.init) }
            ?? DriftInput.defaultColumns(reference: reference, current: currentReader, referenceReader: referenceReader)
        if names.isEmpty { throw CLIError("\(reference) and \(current) share no column to compare") }
        let a = try DriftInput.read(referenceReader, columns: names)
        let b = try DriftInput.read(currentReader, columns: names)
        let results = names.map { name in
            Drift.compare(
                column: name, reference: a[name]!, current: b[name]!, threshold: threshold,
                missingRateChange: missingChange)
        }
        let report = DriftReport(reference: reference, current: current, results: results, driftShare: driftShare)
        try FileSystem.createDirectory(out)
        try FileSystem.writeAtomically(JSONText.render(report.json()) + "\n", to: "\(out)/drift.json")
        try FileSystem.writeAtomically(report.html(), to: "\(out)/drift.html")
        switch output.format {
        case .json: StandardOutput.write(JSONText.render(report.json()) + "\n")
        case .table:
            var t = TextTable(DriftReport.header.map { $0.uppercased() }, rightAligned: [3, 4, 5, 6])
            for row in report.rows { t.add(row) }
            StandardOutput.write(t.render() + report.summary + "\nreport: \(out)/drift.html\n")
        }
        if !report.passed { throw CLIError("drift: \(report.summary)") }
    }
}
