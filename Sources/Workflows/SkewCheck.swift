import Foundation
import FsmlCore
import Parquet
import PointInTime
import Tracking

/// The served-feature log against a run's training set: PSI, KS and missing rates per feature
/// (`fsml validate skew`).
public struct SkewCheck {
    public let run: RunRecord
    public let dataset: String
    public let servedRows: Int
    public let limits: SkewLimits
    /// One per feature both the log and the training set hold, by name.
    public let results: [SkewResult]

    /// Reads the vectors `fsml serve --log-sample` wrote to `servedFolder` and the run's training set.
    public init(run: RunRecord, servedFolder: String, limits: SkewLimits) throws {
        guard let datasetPath = run.params["dataset"], datasetPath.hasSuffix(".parquet") else {
            throw WorkflowError("run \(run.id) was not trained on a Parquet dataset; skew needs its training set")
        }
        let reader = try ParquetReader(path: datasetPath)
        var servedValues: [String: [Double]] = [:]
        var servedRows = 0
        for file in ((try? FileManager.default.contentsOfDirectory(atPath: servedFolder)) ?? []).sorted()
        where file.hasSuffix(".jsonl") {
            let lines = try LineReader(path: "\(servedFolder)/\(file)")
            while let line = try lines.next() {
                guard let node = try? JSONParser.parse(Array(line)), let features = node["features"]?.object else {
                    continue
                }
                servedRows += 1
                for (k, v) in features { servedValues[k, default: []].append(v.double ?? .nan) }
            }
        }
        guard servedRows > 0 else {
            throw WorkflowError("\(servedFolder) holds no served feature vectors (fsml serve --log-sample)")
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
        (self.run, dataset, self.servedRows, self.limits, self.results) =
            (run, datasetPath, servedRows, limits, results)
    }

    /// The features over a threshold.
    public var flagged: [SkewResult] { results.filter { !$0.reasons(limits).isEmpty } }

    public var json: JSONValue {
        .object([
            ("run_id", .string(run.id)), ("dataset", .string(dataset)), ("served_rows", .int(servedRows)),
            ("psi_threshold", .number(limits.psi)), ("ks_threshold", .number(limits.ks)),
            ("missing_change_threshold", .number(limits.missingRateChange)), ("passed", .bool(flagged.isEmpty)),
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
    }

    public static let header = ["feature", "PSI", "KS", "missing (train)", "missing (served)", "result"]

    /// One row per feature, as the table and the page show them.
    public var rows: [[String]] {
        results.map {
            [
                $0.feature, Progress.fixed($0.psi, 4), Progress.fixed($0.ks, 4), Progress.fixed($0.trainMissingRate, 3),
                Progress.fixed($0.servedMissingRate, 3),
                $0.reasons(limits).isEmpty ? "ok" : "FLAGGED: " + $0.reasons(limits).joined(separator: "; "),
            ]
        }
    }

    /// The thresholds, as a clause.
    public var thresholds: String {
        "PSI \(limits.psi), KS \(limits.ks), missing rate change \(limits.missingRateChange)"
    }

    public var html: String {
        HTML.page(
            title: "fsml skew",
            body:
                "<h1>Train/serve skew: run \(HTML.escape(run.name))</h1><p>\(servedRows) served vectors against \(HTML.escape(dataset))</p>"
                + "<p class=\"summary\">"
                + (flagged.isEmpty
                    ? "No feature over the thresholds."
                    : "<b>\(flagged.count) of \(results.count) features flagged</b>: "
                        + HTML.escape(flagged.map(\.feature).joined(separator: ", ")) + ".")
                + " Thresholds: \(thresholds).</p>"
                + SVGChart.bars(title: "PSI per feature", labels: results.map(\.feature), values: results.map(\.psi))
                + HTML.table(Self.header, rows))
    }
}
