import ArgumentParser
import FeatureConfig
import FeatureCore
import FsmlCore

struct Init: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write the reference project (fsml.yaml) into a directory.",
        discussion:
            "The reference project declares the clickstream schema, the user, product and session entities, their features and the label. It never overwrites an existing fsml.yaml."
    )

    @Argument(help: "The project directory (created when missing).")
    var directory: String = "."

    func run() throws {
        let path = directory == "." ? "fsml.yaml" : "\(directory)/fsml.yaml"
        guard !FileSystem.exists(path) else { throw CLIError("\(path) already exists; not overwriting it") }
        try FileSystem.writeAtomically(ReferenceProject.yaml, to: path)
        StandardOutput.write("wrote \(path)\n")
    }
}
