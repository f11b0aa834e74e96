import FeatureConfig
import FeatureCore
import Foundation

/// The definitions that event lines and states are checked against: the fsml.yaml named by
/// FSML_FUZZ_CONFIG (a user's own project), else the reference project.
enum FuzzedProject {
    static let registry: FeatureRegistry = {
        if let path = ProcessInfo.processInfo.environment["FSML_FUZZ_CONFIG"] {
            do { return try RegistryLoader.load(path: path) } catch { fatalError("FSML_FUZZ_CONFIG: \(error)") }
        }
        do { return try RegistryLoader.parse(ReferenceProject.yaml, file: "fsml.yaml") } catch {
            fatalError("the reference project does not load: \(error)")
        }
    }()

    static let engine = FeatureEngine(registry: registry)
}
