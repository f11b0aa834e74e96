import Foundation
import FsmlCore

/// MLflow's model registry as its file store keeps it beside the runs: `<root>/models/<name>/`
/// holds the registered model's meta.yaml, a `version-<n>/meta.yaml` per version and
/// `aliases/<alias>` files holding version numbers. MLflow's client reads it with the tracking
/// folder as its registry URI, so `models:/<name>@<alias>` loads an fsml run's model in
/// `mlflow.pyfunc` and `mlflow models serve`.
public struct ModelRegistry: Sendable {
    public let directory: String

    public init(store: TrackingStore) { directory = store.root + "/models" }

    /// A registered version: which run's model it is.
    public struct Version: Equatable, Sendable {
        public var name: String
        public var version: Int
        public var runID: String
    }

    /// Registers the run's MLflow model (its `model/` artifact) as the next version of `name`, or
    /// finds the version that already holds it (promoting a run twice registers it once), then
    /// points `alias` at that version. Returns it, and whether it is new.
    public func register(_ run: RunRecord, name: String, alias: String) throws -> (Version, created: Bool) {
        try check(run, name: name, alias: alias)
        let now = Int64(wallClockMicros() / 1000)
        let modelDir = "\(directory)/\(name)"
        let created = (try? FileSystem.readText(modelDir + "/meta.yaml")).flatMap {
            Self.scalar("creation_timestamp", $0)
        }
        let existing = versions(name: name)
        var version: Version
        var isNew = false
        if let found = existing.first(where: { $0.runID == run.id }) {
            version = found
        } else {
            version = Version(name: name, version: (existing.map(\.version).max() ?? 0) + 1, runID: run.id)
            isNew = true
            let source = "runs:/\(run.id)/model"
            let meta = MetaYAML.render([
                ("creation_timestamp", .int(now)), ("current_stage", .raw("None")), ("deployment_job_state", .null),
                ("description", .null), ("last_updated_timestamp", .int(now)), ("model_id", .null),
                ("name", .text(name)), ("run_id", .text(run.id)), ("run_link", .null), ("source", .text(source)),
                ("status", .raw("READY")), ("status_message", .null), ("storage_location", .text(source)),
                ("user_id", .null), ("version", .int(Int64(version.version))), ("workspace", .raw("default")),
            ])
            try FileSystem.writeAtomically(meta, to: "\(modelDir)/version-\(version.version)/meta.yaml")
        }
        try FileSystem.writeAtomically("\(version.version)", to: "\(modelDir)/aliases/\(alias)")
        var aliases = self.aliases(name: name)
        aliases[alias] = version.version
        // A mapping, which MetaYAML's scalars do not cover: its lines by hand.
        let aliasLines = aliases.keys.sorted().map { "\n  \($0): '\(aliases[$0]!)'" }.joined()
        try FileSystem.writeAtomically(
            "aliases:\(aliasLines)\n"
                + MetaYAML.render([
                    ("creation_timestamp", .int(created.flatMap { Int64($0) } ?? now)),
                    ("deployment_job_id", .null), ("deployment_job_state", .null), ("description", .null),
                    ("last_updated_timestamp", .int(now)), ("name", .text(name)), ("workspace", .raw("default")),
                ]), to: modelDir + "/meta.yaml")
        return (version, isNew)
    }

    /// Throws what `register` would refuse: a name or alias MLflow would, a run with no MLflow model.
    public func check(_ run: RunRecord, name: String, alias: String) throws {
        try Self.validate(name: name, alias: alias)
        guard FileSystem.exists(run.artifactsDirectory + "/model/MLmodel") else {
            throw TrackingError(
                "run \(run.id) has no MLflow model (artifacts/model/MLmodel): only a model that LightGBM can "
                    + "load is registered in MLflow's registry")
        }
    }

    /// The registered versions of `name`, oldest first.
    public func versions(name: String) -> [Version] {
        let modelDir = "\(directory)/\(name)"
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: modelDir)) ?? []
        return entries.compactMap { entry -> Version? in
            guard entry.hasPrefix("version-"), let n = Int(entry.dropFirst("version-".count)),
                let text = try? FileSystem.readText("\(modelDir)/\(entry)/meta.yaml"),
                let runID = Self.scalar("run_id", text)
            else { return nil }
            return Version(name: name, version: n, runID: runID)
        }.sorted { $0.version < $1.version }
    }

    /// Each alias of `name` and the version it points to.
    public func aliases(name: String) -> [String: Int] {
        let dir = "\(directory)/\(name)/aliases"
        var result: [String: Int] = [:]
        for alias in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] {
            if let text = try? FileSystem.readText("\(dir)/\(alias)"),
                let n = Int(text.trimmingCharacters(in: .whitespacesAndNewlines))
            {
                result[alias] = n
            }
        }
        return result
    }

    /// MLflow's own rules: a name that is a folder name, and an alias that is neither `latest` nor
    /// `v<digits>` (reserved for versions).
    static func validate(name: String, alias: String) throws {
        try TrackingNames.validateKey(name, what: "registered model name")
        if name.contains("/") || name == "." || name == ".." {
            throw TrackingError("registered model name '\(name)' must be a folder name")
        }
        try TrackingNames.validateKey(alias, what: "alias")
        let lower = alias.lowercased()
        if lower == "latest" || (lower.hasPrefix("v") && lower.count > 1 && lower.dropFirst().allSatisfy(\.isNumber))
            || alias.contains("/")
        {
            throw TrackingError("alias '\(alias)' is reserved by MLflow's registry (latest, v<number>) or has a '/'")
        }
    }

    static func scalar(_ key: String, _ yaml: String) -> String? {
        (try? MetaYAML.parse(yaml, file: ""))?.values[key]
    }
}
