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
