import ArgumentParser

struct Features: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Inspect the feature registry.",
        subcommands: [FeaturesList.self, FeaturesDescribe.self, FeaturesGet.self]
    )
}
