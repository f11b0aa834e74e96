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
