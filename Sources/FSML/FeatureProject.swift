import FeatureConfig
import FeatureCore
import FsmlCore
import OfflineStorage
import OnlineStorage
import PointInTime
import Workflows

/// A feature project opened from its fsml.yaml: the events it reads, the entities and features
/// defined on them, and the stores that hold them. Where a program that embeds fsml starts.
///
/// ```swift
/// let project = try FeatureProject(path: "fsml.yaml")
/// let memory = project.memory()
/// memory.ingest(#"{"event_id":"e1","event_ts":"2026-12-01T10:00:00Z", ...}"#)
/// let vector = try memory.features(["card_id": "c_1", "merchant_id": "m_7"])
/// ```
public struct FeatureProject: Sendable {
    /// The definitions read from fsml.yaml.
    public let registry: FeatureRegistry
    /// The fsml.yaml the project was read from; the paths in it are relative to its directory.
    public let path: String

    /// Reads and checks `path`; a bad definition throws an error naming the file, line and key.
    public init(path: String = "fsml.yaml") throws {
        registry = try RegistryLoader.load(path: path)
        self.path = path
    }

    /// The features the project serves and trains on (those of its feature views), in order.
    public var servedFeatures: [String] { registry.servedFeatures.map { registry.features[$0].name } }

    /// Empty entity states in this process, which fold events as the stream job does.
    public func memory() -> FeatureMemory { FeatureMemory(registry: registry) }

    /// The online store at `url` (`redis://HOST:PORT/DB`, `sqlite:PATH`), or fsml.yaml's
    /// `stores.online`: the states `fsml stream` writes, read as `fsml serve` reads them.
    public func onlineFeatures(url: String? = nil, timeoutMillis: Int = 1000) throws -> OnlineFeatures {
        let store = try ProjectStores.online(url, registry: registry, config: path, timeoutMillis: timeoutMillis)
        return OnlineFeatures(registry: registry, store: store)
    }

    /// Builds the labelled, point-in-time correct training set from the offline store (`offline`,
    /// or fsml.yaml's `stores.offline`) to `out` (Parquet, or CSV for a .csv name) with its
    /// manifest beside it: what `fsml build` writes.
    @discardableResult
    public func buildTrainingSet(
        out: String, offline: String? = nil, options: BuildOptions = BuildOptions()
    ) throws
        -> BuildReport
    {
        let store = OfflineStore(root: offline ?? ProjectPaths.resolve(registry.stores.offline, config: path))
        return try DatasetBuild.run(
            registry: registry, store: store, options: options, out: out,
            format: out.hasSuffix(".csv") ? .csv : .parquet
        ).report
    }
}
