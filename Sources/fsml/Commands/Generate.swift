import ArgumentParser

struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Generate synthetic data.",
        subcommands: [GenerateEvents.self]
    )
}
