import ArgumentParser
import Foundation
import FsmlCore
import Tracking

struct RunsPromote: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "promote",
        abstract: "Point an alias of the run's experiment at the run (what `fsml serve` follows).")

    @Argument(help: ArgumentHelp("The run.", valueName: "run")) var reference: String
    @Option(help: "The alias.") var alias: String = "production"
    @Option(help: "Look only in this experiment.") var experiment: String?
    @Option(
        help: """
            Also register the run's MLflow model as a version of this model in MLflow's registry (the \
            tracking folder's models/, which MLflow's client reads) and point the alias at it: \
            models:/NAME@ALIAS then loads it in mlflow.pyfunc and `mlflow models serve`.
            """) var registeredModel: String?
    @OptionGroup var tracking: TrackingOptions

    func run() throws {
        let store = tracking.store
        let r = try store.findRun(reference, experiment: experiment)
        let registry = ModelRegistry(store: store)
        if let name = registeredModel { try registry.check(r, name: name, alias: alias) }
        // A model that fails its checksum or does not load is never promoted (a server would refuse it).
        let (e, previous) = try store.promote(r, alias: alias)
        StandardOutput.write(
            "\(alias) → run \(r.id) (\(r.name)) in experiment '\(e.name)'"
                + (previous.map { $0 == r.id ? " (unchanged)" : " (was \($0.prefix(8)))" } ?? "") + "\n")
        if let name = registeredModel {
            let (version, created) = try registry.register(r, name: name, alias: alias)
            StandardOutput.write(
                "registered model '\(name)' version \(version.version)\(created ? "" : " (already registered)"), "
                    + "alias \(alias) → version \(version.version): models:/\(name)@\(alias)\n")
        }
    }
}
