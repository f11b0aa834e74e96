/// The version printed by `fsml --version` and recorded in manifests, run tags and model files.
public enum FsmlVersion {
    public static let current = "0.1.0"
}
