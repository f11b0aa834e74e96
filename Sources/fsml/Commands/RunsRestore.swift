import ArgumentParser
import Foundation
import FsmlCore
import Tracking

struct RunsRestore: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "restore", abstract: "Bring a deleted run back.")

    @Argument(help: ArgumentHelp("The run id.", valueName: "run")) var reference: String
    @OptionGroup var tracking: TrackingOptions

    func run() throws {
        let r = try tracking.store.restore(runID: reference)
        StandardOutput.write("restored run \(r.id) (\(r.name))\n")
    }
}
