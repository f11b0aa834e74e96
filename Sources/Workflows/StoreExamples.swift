import FeatureConfig
import FeatureCore
import FsmlCore
import GBDT
import OfflineStorage
import Parquet
import PointInTime

/// The labelled examples `train` and `tune` learn from: a dataset from `fsml build` (checked
/// against its manifest), or one built now from the offline store, read with the features of
/// fsml.yaml it holds (of some feature views only, with `views`).
public struct StoreExamples {
    public var registry: FeatureRegistry
    public var table: DatasetTable
    public var datasetPath: String
    public var manifestPath: String?
    /// Every feature's definition hash, for the run's tags.
    public var featureHashes: [String: String]
    /// The segment columns read with the table.
    public var segmentColumns: [String]

    /// What to learn from: a dataset already built, or one built now from the offline store.
    public struct Request: Sendable {
        /// The project's fsml.yaml: its paths are relative to it.
        public var configPath: String
        /// A dataset from `fsml build`; nil: build one now.
        public var dataset: String?
        /// The offline store to build from (default: stores.offline in fsml.yaml).
        public var offline: String?
        /// The example times of a dataset built now: [start, end).
        public var start: Micros?
        public var end: Micros?
        /// Feature views (comma-separated) whose features are read; nil: every view.
        public var views: String?
        /// The columns to read beside the features (nil: the candidates fsml.yaml suggests).
        public var segments: [String]?
        /// A column of query ids to read too (for ranking), which must exist.
        public var queryColumn: String?

        public init(configPath: String) { self.configPath = configPath }
    }

    /// `buildAs`: the name of a dataset built now (data/datasets/NAME.parquet).
    public static func load(_ request: Request, buildAs: String) throws -> StoreExamples {
        let registry = try RegistryLoader.load(path: request.configPath)
        let (dataset, offline, views, segments, queryColumn) = (
            request.dataset, request.offline, request.views, request.segments, request.queryColumn
        )
        var datasetPath: String
        var manifestPath: String?
        if let dataset {
            datasetPath = dataset
            let m = DatasetManifest.path(forDataset: dataset)
            manifestPath = FileSystem.exists(m) ? m : nil
        } else {
            let store = OfflineStore(
                root: offline ?? ProjectPaths.resolve(registry.stores.offline, config: request.configPath))
            var options = BuildOptions()
            options.start = request.start
            options.end = request.end
            datasetPath = ProjectPaths.resolve("data/datasets/\(buildAs).parquet", config: request.configPath)
            let built = try DatasetBuild.run(
                registry: registry, store: store, options: options, out: datasetPath, format: .parquet)
            StandardError.line(
                "dataset: \(Progress.count(built.report.rows)) examples (\(Progress.count(built.report.positives)) positive) in \(Progress.fixed(built.seconds, 1)) s: \(datasetPath)"
            )
            manifestPath = built.manifestPath
        }
        let present = Set(try ParquetReader(path: datasetPath).columns.map(\.name))
        var features = registry.features.indices.filter { present.contains(registry.features[$0].name) }
        guard !features.isEmpty else { throw WorkflowError("\(datasetPath) holds none of the features of fsml.yaml") }
        if let views {
            let names = views.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
            for name in names where !registry.views.contains(where: { $0.name == name }) {
                throw WorkflowError(
                    "--views: no feature view '\(name)' (one of \(registry.views.map(\.name).joined(separator: ", ")))")
            }
            features = features.filter { registry.features[$0].view.map(names.contains) ?? false }
            guard !features.isEmpty else { throw WorkflowError("--views: \(views) serve no feature of \(datasetPath)") }
        }
        let label = registry.label?.name ?? "label"
        let segmentColumns = segments ?? DatasetSegments.candidates(registry)
        if let queryColumn, !present.contains(queryColumn) {
            throw WorkflowError("--group-column: \(datasetPath) has no column '\(queryColumn)' (an entity key, say)")
        }
        let table = try DatasetReader.load(
            path: datasetPath, features: features.map { registry.features[$0].name }, label: label,
            time: registry.schema.timeFieldName, segments: segmentColumns + (queryColumn.map { [$0] } ?? []))
        var hashes: [String: String] = [:]
        for f in features { hashes[registry.features[f].name] = registry.definitionHash(of: f) }
        return StoreExamples(
            registry: registry, table: table, datasetPath: datasetPath, manifestPath: manifestPath,
            featureHashes: hashes, segmentColumns: segmentColumns)
    }
}
