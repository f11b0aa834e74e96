import ArgumentParser
import FeatureConfig
import FeatureCore
import FsmlCore

struct Init: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a reference project (fsml.yaml) into a directory.",
        discussion: """
            shop (the default): a clickstream with user, product, session and user×product entities, a \
            recommender's features and an add-to-cart label. risk: card authorizations with card, merchant and \
            card×merchant entities, velocity and spend features and a chargeback label (events: fsml generate \
            events --template risk). It never overwrites an existing fsml.yaml.
            """
    )

    @Argument(help: "The project directory (created when missing).")
    var directory: String = "."
    @Option(help: "shop or risk.") var template: Template = .shop

    enum Template: String, ExpressibleByArgument, CaseIterable {
        case shop, risk
        var yaml: String { self == .shop ? ReferenceProject.yaml : RiskProject.yaml }
    }

    func run() throws {
        let path = directory == "." ? "fsml.yaml" : "\(directory)/fsml.yaml"
        guard !FileSystem.exists(path) else { throw CLIError("\(path) already exists; not overwriting it") }
        try FileSystem.writeAtomically(template.yaml, to: path)
        StandardOutput.write("wrote \(path)\n")
    }
}
