import FsmlCore
import GBDT

/// A run's model file, as training recorded it: the file must be there, match the checksum the
/// run was tagged with, and load. What `runs promote` checks before an alias moves to a run, and
/// what a server checks before it serves one.
public enum ModelArtifact {
    public static let fileName = "model.json"
    public static let checksumTag = "fsml.model.sha256"

    public struct Failure: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    public static func path(of run: RunRecord) -> String { "\(run.artifactsDirectory)/\(fileName)" }

    /// The model, checked against the run's checksum (when the run recorded one) and loaded.
    public static func load(_ run: RunRecord) throws -> AnyModel {
        let path = path(of: run)
        guard FileSystem.exists(path) else {
            throw Failure(description: "run \(run.id) has no model artifact (\(path))")
        }
        if let expected = run.tags[checksumTag] {
            let actual = try SHA256.hex(ofFile: path)
            guard actual == expected else {
                throw Failure(
                    description:
                        "\(path): checksum \(actual.prefix(12))… does not match the run's \(expected.prefix(12))… (the file changed after training)"
                )
            }
        }
        return try AnyModel.load(path: path)
    }
}

extension ModelArtifact {
    /// Writes the model as the run's model artifact and tags the run with its checksum, which
    /// `load` and the server check later.
    @discardableResult
    public static func save(_ model: AnyModel, to run: RunWriter) throws -> String {
        let path = run.artifactsDirectory + "/" + fileName
        try model.save(to: path)
        try run.setTags([checksumTag: try SHA256.hex(ofFile: path), "fsml.model.path": fileName])
        return path
    }
}

extension TrackingStore {
    /// Points `alias` of the run's experiment at the run, after the checks a server would make:
    /// the run finished, and its model matches its checksum and loads. Returns the experiment and
    /// the run the alias pointed at before.
    @discardableResult
    public func promote(_ run: RunRecord, alias: String) throws -> (experiment: ExperimentMeta, previous: String?) {
        guard run.meta.status == .finished else {
            throw ModelArtifact.Failure(
                description: "run \(run.id) is \(run.meta.status.name); only a FINISHED run can be promoted")
        }
        _ = try ModelArtifact.load(run)
        let e = try experiment(id: run.meta.experimentID)
        let previous = aliases(e)[alias]
        try setAlias(alias, run: run)
        return (e, previous)
    }
}

extension ModelArtifact {
    /// Logs a model trained elsewhere (imported from LightGBM or XGBoost) as a finished run of
    /// `experiment`: its model artifact and checksum, MLflow's `model/` layout, where it came
    /// from. `fsml runs promote` and `fsml serve` then take it like a run fsml trained.
    public static func logImported(
        _ model: GBDTModel, store: TrackingStore, experiment: String, name: String, source: String, format: String
    ) throws -> RunRecord {
        let e = try store.experimentCreatingIfNeeded(experiment)
        var tags = RunTags.standard()
        tags["fsml.model.kind"] = "gbdt"
        tags["fsml.model.imported_from"] = format
        let run = try RunWriter(store: store, experiment: e, name: name, tags: tags)
        do {
            try run.logParams([
                ("model", "gbdt"), ("objective", model.objective.rawValue), ("imported_from", source),
                ("import_format", format), ("trees", "\(model.trees.count)"), ("num_class", "\(model.numClass)"),
                ("features", "\(model.featureNames.count)"),
            ])
            try save(.gbdt(model), to: run)
            try MLflowModelFlavor.write(model, runID: run.id, artifacts: run.artifactsDirectory)
            try run.end(.finished)
        } catch {
            try? run.end(.failed)
            throw error
        }
        return run.snapshot
    }
}
