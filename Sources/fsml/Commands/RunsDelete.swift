import ArgumentParser
import Foundation
import FsmlCore
import Tracking

struct RunsDelete: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete", abstract: "Move a run to the trash folder (restore it with `fsml runs restore`).")

    @Argument(help: ArgumentHelp("The run.", valueName: "run")) var reference: String
    @Option(help: "Look only in this experiment.") var experiment: String?
    @OptionGroup var tracking: TrackingOptions

    func run() throws {
        let store = tracking.store
        let r = try store.findRun(reference, experiment: experiment)
        let e = try store.experiment(id: r.meta.experimentID)
        if let alias = store.aliases(e).first(where: { $0.value == r.id })?.key {
            throw CLIError("run \(r.id) is the experiment's '\(alias)'; promote another run first")
        }
        try store.delete(r)
        StandardOutput.write("deleted run \(r.id) (\(r.name)); restore it with `fsml runs restore \(r.id)`\n")
    }
}
