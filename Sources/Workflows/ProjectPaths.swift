import Foundation

/// Paths in fsml.yaml are relative to the directory that holds it.
public enum ProjectPaths {
    public static func resolve(_ path: String, config: String) -> String {
        if path.hasPrefix("/") { return path }
        let dir = (config as NSString).deletingLastPathComponent
        return dir.isEmpty ? path : "\(dir)/\(path)"
    }
}
