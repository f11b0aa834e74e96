import Foundation
import FsmlCore
import GBDT
import Testing

@testable import Workflows

/// The command line's values, then the space file's `tune:` block, then the defaults.
@Suite struct TuningSettingsTests {
    static func spaceFile(_ text: String) throws -> String {
        let path = NSTemporaryDirectory() + "fsml-space-\(UUID().uuidString).yaml"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func withNothingGivenTheDefaultsHold() throws {
        let s = try TuningSettings.resolve(spaces: ["learning_rate=loguniform(0.01,0.3)"], spaceFile: nil)
        #expect(s.space.parameters.map(\.name) == ["learning_rate"])
        #expect(s.trials == 30 && s.timeout == nil && s.cv == 3 && s.seed == 0)
        #expect(s.sampler == .tpe && s.pruner == PrunerKind.none && s.metric == .auc)
    }

    @Test func aTimeoutAloneLeavesTheTrialsOpen() throws {
        let s = try TuningSettings.resolve(spaces: ["num_leaves=int(8,64)"], spaceFile: nil, timeout: "10m")
        #expect(s.trials == nil && s.timeout == 600_000_000)
    }

    @Test func theFileFillsWhatTheCommandLineLeavesOut() throws {
        let path = try Self.spaceFile(
            """
            tune:
              trials: 12
              cv: 4
              sampler: random
              pruner: hyperband
              metric: valid_logloss
              seed: 9
              space:
                num_leaves: int(8,64)
            """)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let s = try TuningSettings.resolve(spaces: [], spaceFile: path, trials: 5, seed: 3)
        #expect(s.trials == 5 && s.seed == 3)
        #expect(s.cv == 4 && s.sampler == .random && s.pruner == .hyperband && s.metric == .logloss)
        #expect(s.space.parameters.map(\.name) == ["num_leaves"])
    }

    @Test func aBadValueInTheFileNamesTheFileAndTheKey() throws {
        let path = try Self.spaceFile("tune:\n  cv: zero\n  space:\n    num_leaves: int(8,64)\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect {
            try TuningSettings.resolve(spaces: [], spaceFile: path)
        } throws: { "\($0)" == "\(path): tune.cv: 'zero' is not valid" }
        #expect {
            try TuningSettings.resolve(spaces: ["num_leaves=int(8,64)"], spaceFile: nil, metric: "valid_nope")
        } throws: { "\($0)".hasPrefix("--metric valid_nope: one of valid_auc") }
    }
}
