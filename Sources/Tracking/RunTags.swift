import Foundation
import FsmlCore

/// The provenance tags every fsml run carries.
public enum RunTags {
    public static func standard() -> [String: String] {
        var tags = ["fsml.version": FsmlVersion.current, "fsml.host": hostName()]
        if let commit = gitCommit(from: FileManager.default.currentDirectoryPath) {
            tags["mlflow.source.git.commit"] = commit
            tags["fsml.git_commit"] = commit
        }
        return tags
    }

    /// The commit checked out in the repository around `directory`, read from `.git` without
    /// running git (HEAD, then the loose ref or packed-refs).
    public static func gitCommit(from directory: String) -> String? {
        var dir = URL(fileURLWithPath: directory).standardizedFileURL
        while true {
            let git = dir.appendingPathComponent(".git").path
            if FileSystem.isDirectory(git) { return commit(gitDir: git) }
            let parent = dir.deletingLastPathComponent()
            if parent.path == dir.path { return nil }
            dir = parent
        }
    }

    static func commit(gitDir: String) -> String? {
        guard let head = try? FileSystem.readText(gitDir + "/HEAD").trimmingCharacters(in: .whitespacesAndNewlines)
        else { return nil }
        guard head.hasPrefix("ref: ") else { return head.count == 40 ? head : nil }
        let ref = String(head.dropFirst(5))
        if let loose = try? FileSystem.readText(gitDir + "/" + ref) {
            return loose.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        guard let packed = try? FileSystem.readText(gitDir + "/packed-refs") else { return nil }
        for line in packed.split(separator: "\n") where line.hasSuffix(" " + ref) {
            return String(line.prefix(40))
        }
        return nil
    }
}
