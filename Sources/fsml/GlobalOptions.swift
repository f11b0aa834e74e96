import ArgumentParser
import FeatureConfig
import FeatureCore

/// Options every command that reads the project takes.
struct GlobalOptions: ParsableArguments {
    // Declared for the help text; `Fsml.extractRootOptions` takes the value before parsing.
    @Option(name: .long, help: ArgumentHelp("The project definition (default: fsml.yaml).", valueName: "path"))
    var config: String?

    var configPath: String { Fsml.rootConfig ?? config ?? "fsml.yaml" }

    func loadRegistry() throws -> FeatureRegistry {
        try RegistryLoader.load(path: configPath)
    }
}

/// How a command prints a table.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case table, json
}

struct FormatOption: ParsableArguments {
    @Option(name: .long, help: "Output format: table or json.")
    var format: OutputFormat = .table
}
