import Foundation
import Testing

/// `--help` texts pinned as golden files. FSML_UPDATE_GOLDEN=1 rewrites them after a deliberate
/// change; review the diff.
@Suite struct HelpGoldenTests {
    static let goldenDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
        "Golden")

    static let commands: [[String]] = [
        [], ["init"], ["features"], ["features", "list"], ["features", "describe"], ["features", "get"], ["generate"],
        ["generate", "events"], ["ingest"], ["stream"], ["materialize"], ["produce"], ["kafka"], ["kafka", "mock"],
        ["build"], ["train"],
        ["tune"], ["evaluate"], ["runs"], ["runs", "list"], ["runs", "show"], ["runs", "promote"], ["runs", "delete"],
        ["runs", "restore"], ["compare"], ["compare", "runs"], ["serve"], ["parity"], ["validate"],
        ["validate", "data"],
        ["validate", "skew"], ["validate", "drift"], ["reports"], ["predict"], ["explain"],
        ["model"], ["model", "info"],
        ["model", "export-xgboost"],
        ["model", "import-xgboost"], ["model", "export-lightgbm"], ["model", "import-lightgbm"],
        ["model", "export-onnx"], ["bench"],
        ["bench", "engine"], ["bench", "predict"], ["bench", "serve"],
        ["bench", "online"],
    ]

    @Test(arguments: commands)
    func helpMatchesItsGoldenFile(command: [String]) throws {
        let output = try BinaryRunner.run(command + ["--help"])
        #expect(output.status == 0)
        #expect(output.stderr.isEmpty)
        let name = (["fsml"] + command).joined(separator: "-") + ".txt"
        let path = Self.goldenDirectory.appendingPathComponent(name).path
        if ProcessInfo.processInfo.environment["FSML_UPDATE_GOLDEN"] == "1" {
            try output.stdout.write(toFile: path, atomically: true, encoding: .utf8)
            return
        }
        let golden = try String(contentsOfFile: path, encoding: .utf8)
        #expect(output.stdout == golden, "fsml \(command.joined(separator: " ")) --help differs from Golden/\(name)")
    }

    @Test func theTopLevelHelpListsOnlyWorkingCommands() throws {
        let output = try BinaryRunner.run(["--help"])
        let listed = output.stdout.components(separatedBy: "SUBCOMMANDS:")[1].split(separator: "\n")
            .compactMap { line -> String? in
                let t = line.trimmingCharacters(in: .whitespaces)
                guard line.hasPrefix("  "), !line.hasPrefix("   "), let word = t.split(separator: " ").first else {
                    return nil
                }
                return String(word)
            }
        #expect(
            listed == [
                "init", "features", "generate", "ingest", "stream", "materialize", "produce", "build", "train", "tune",
                "evaluate",
                "runs", "compare", "serve", "parity", "validate", "reports", "predict", "explain", "model", "kafka",
                "bench",
                "See",
            ])
        for command in listed.dropLast() {
            #expect(try BinaryRunner.run([command, "--help"]).status == 0)
        }
    }
}
