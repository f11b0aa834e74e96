import FeatureCore
import FsmlCore
import OfflineStorage
import PointInTime

/// Builds a dataset and writes its manifest: what `fsml build` and `fsml train --experiment` share.
public enum DatasetBuild {
    public struct Built: Sendable {
        public var report: BuildReport
        public var seconds: Double
        public var manifestPath: String
    }

    public static func run(
        registry: FeatureRegistry, store: OfflineStore, options: BuildOptions, out: String, format: DatasetFormat,
        spine: String? = nil, timeColumn: String? = nil
    ) throws -> Built {
        guard try !store.files().isEmpty else {
            throw WorkflowError("\(store.root) holds no events; run `fsml ingest` or `fsml stream` first")
        }
        let builder = DatasetBuilder(registry: registry, store: store, options: options)
        let progress = Progress("build")
        builder.progress = progress
        let started = monotonicNanos()
        let report: BuildReport
        let columns: [String]
        let timeColumnName: String
        let kind: String
        let sha256: String?
        if let spine {
            let rows = try Spine.load(path: spine, registry: registry, timeColumn: timeColumn)
            let outputColumns = rows.columns + builder.featureColumns
            let writer = try DatasetWriter(path: out, format: format, columns: outputColumns)
            report = try builder.buildSpine(rows, into: writer)
            try writer.close()
            sha256 = writer.sha256
            columns = outputColumns.map(\.name)
            timeColumnName = rows.columns[rows.timeColumn].name
            kind = "spine"
        } else {
            let writer = try DatasetWriter(path: out, format: format, columns: builder.exampleColumns)
            report = try builder.buildExamples(into: writer)
            try writer.close()
            sha256 = writer.sha256
            columns = builder.exampleColumns.map(\.name)
            timeColumnName = registry.schema.timeFieldName
            kind = "examples"
        }
        let seconds = Double(monotonicNanos() - started) / 1e9
        progress.finish(report.eventsReplayed, detail: "\(Progress.count(report.rows)) rows")
        let manifestPath = DatasetManifest.path(forDataset: out)
        let manifest = DatasetManifest.json(
            registry: registry, report: report, options: options, datasetPath: out, format: format, kind: kind,
            columns: columns, timeColumn: timeColumnName, storeRoot: store.root, seconds: seconds, sha256: sha256)
        try FileSystem.writeAtomically(JSONText.render(manifest) + "\n", to: manifestPath)
        return Built(report: report, seconds: seconds, manifestPath: manifestPath)
    }
}
