import ArgumentParser

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure fsml's own speed; reports go under artifacts/reports/.",
        subcommands: [BenchEngine.self, BenchPredict.self, BenchServe.self, BenchOnline.self]
    )
}
