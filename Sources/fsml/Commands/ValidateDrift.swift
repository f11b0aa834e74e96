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

    @Option(help: "The reference dataset (.parquet), e.g. a run's training set.") var reference: String?
    @Option(help: "The current dataset (.parquet), e.g. a later build.") var current: String?
    @Option(help: "One dataset (.parquet) whose last --current-days are compared with the rows before them.")
    var dataset: String?
    @Option(help: "Days at the end of --dataset that form the current data.") var currentDays: Double = 1
    @Option(help: "The time column of --dataset (default: from its manifest).") var timeColumn: String?
    @Option(help: "Columns to compare (comma-separated; default: the reference manifest's features, else all shared).")
    var columns: String?
    @Option(help: "A p-value or distance threshold for every test, in place of each test's own.") var threshold: Double?
    @Option(help: "A change of the missing rate over this (a fraction) is drift.") var missingChange = 0.1
    @Option(help: "Dataset drift when at least this share of the columns drifted.") var driftShare = 0.5
    @Option(help: "Where the reports go.") var out = "artifacts/reports"
    @OptionGroup var output: FormatOption

    func validate() throws {
        if (reference == nil) != (current == nil) || (reference == nil) == (dataset == nil) {
            throw ValidationError("give --reference A --current B, or --dataset D (split by time)")
        }
        if currentDays <= 0 { throw ValidationError("--current-days must be positive") }
        if !(0...1).contains(driftShare) { throw ValidationError("--drift-share is a fraction between 0 and 1") }
        if missingChange < 0 { throw ValidationError("--missing-change must be at least 0") }
    }

    func run() throws {
        let (a, b, names, referenceName, currentName) = try inputs()
        let results = names.map { name in
            Drift.compare(
                column: name, reference: a[name]!, current: b[name]!, threshold: threshold,
                missingRateChange: missingChange)
        }
        let report = DriftReport(
            reference: referenceName, current: currentName, results: results, driftShare: driftShare)
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

    /// The two sides' columns and how the report names them.
    private func inputs() throws -> (
        [String: DriftValues], [String: DriftValues], [String], reference: String, current: String
    ) {
        func names(_ first: ParquetReader, _ path: String, _ other: ParquetReader) -> [String] {
            columns.map { $0.split(separator: ",").map(String.init) }
                ?? DriftInput.defaultColumns(reference: path, current: other, referenceReader: first)
        }
        if let reference, let current {
            let (r, c) = (try ParquetReader(path: reference), try ParquetReader(path: current))
            let wanted = names(r, reference, c)
            if wanted.isEmpty { throw CLIError("\(reference) and \(current) share no column to compare") }
            return (
                try DriftInput.read(r, columns: wanted), try DriftInput.read(c, columns: wanted), wanted, reference,
                current
            )
        }
        let path = dataset!
        let reader = try ParquetReader(path: path)
        guard let time = timeColumn ?? DriftInput.timeColumn(dataset: path) else {
            throw CLIError("\(path) has no manifest naming its time column: give --time-column")
        }
        let wanted = names(reader, path, reader).filter { $0 != time }
        if wanted.isEmpty { throw CLIError("\(path) has no column to compare") }
        let all = try DriftInput.read(reader, columns: wanted + [time])
        guard case .numbers(let times) = all[time]! else { throw CLIError("\(path): \(time) is not a time column") }
        let split = DriftInput.splitByTime(all.filter { $0.key != time }, times: times, days: currentDays)
        let from = Timestamp.format(Micros(split.start))
        return (split.reference, split.current, wanted, "\(path) before \(from)", "\(path) from \(from)")
    }
}
