import ArgumentParser
import FsmlCore
import GBDT
import Tracking

/// An imported model logged as a tracked run, which `fsml runs promote` and `fsml serve` take.
struct ImportedRunOptions: ParsableArguments {
    @Option(
        help: """
            Also log the model as a finished run of this experiment (created if absent): `fsml runs promote` \
            and `fsml serve` then take it (its feature names must be the project's features).
            """) var experiment: String?
    @Option(help: "The run's name (default: imported-<model file name>).") var runName: String?
    @OptionGroup var tracking: TrackingOptions

    func log(_ m: GBDTModel, source: String, format: String) throws {
        guard let experiment else { return }
        let name = runName ?? "imported-" + (source.split(separator: "/").last.map(String.init) ?? source)
        let run = try ModelArtifact.logImported(
            m, store: tracking.store, experiment: experiment, name: name, source: source, format: format)
        StandardOutput.write("logged run \(run.id) (\(run.name)) in experiment '\(experiment)'\n")
    }
}
