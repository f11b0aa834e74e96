import EventGenerator
import FSML
import FeatureConfig
import FeatureCore
import Foundation
import FsmlCore
import FsmlTestSupport
import Testing

/// The embedded library against the brute-force oracle: a project opened from its fsml.yaml folds
/// generated traffic (late, out-of-order and duplicate events included) line by line, and reads
/// every served feature for real requests as the oracle computes them.
@Suite struct FeatureMemoryTests {
    static func project() throws -> (FeatureProject, String) {
        let dir = NSTemporaryDirectory() + "fsml-embedded-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try ReferenceProject.yaml.write(toFile: "\(dir)/fsml.yaml", atomically: true, encoding: .utf8)
        return (try FeatureProject(path: "\(dir)/fsml.yaml"), dir)
    }

    static func traffic(seed: UInt64) throws -> [[UInt8]] {
        var config = GeneratorConfig()
        config.events = 20_000
        config.users = 200
        config.products = 60
        config.days = 2
        config.seed = seed
        config.lateFraction = 0.08
        config.duplicateFraction = 0.03
        var bytes: [UInt8] = []
        _ = try EventGenerator(config: config).run(gzip: false) { bytes.append(contentsOf: $0) }
        return bytes.split(separator: 10).map { Array($0) }
    }

    static func request(_ fields: [String: FeatureOracle.Value]) -> [String: FieldValue] {
        fields.mapValues {
            switch $0 {
            case .string(let s): return .string(s)
            case .number(let x): return .number(x)
            case .bool(let b): return .bool(b)
            }
        }
    }

    @Test func foldedLinesReadAsTheOracleComputes() throws {
        let (project, dir) = try Self.project()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let lines = try Self.traffic(seed: 7)
        let oracle = try FeatureOracle(registry: project.registry, lines: lines)
        let memory = project.memory()
        var outcomes: [FeatureMemory.Outcome: Int] = [:]
        for line in lines { outcomes[memory.ingest(String(decoding: line, as: UTF8.self)), default: 0] += 1 }
        memory.finish()
        #expect(memory.counts.admitted == oracle.rows.count)
        #expect(outcomes[.admitted]! + outcomes[.waiting, default: 0] == oracle.rows.count)
        #expect(outcomes[.late] == oracle.late && oracle.late > 0)
        #expect(outcomes[.duplicate] == oracle.duplicates && oracle.duplicates > 0)
        // Reads after the last event: every admitted event counts (one at exactly t would not).
        let clock = try #require(memory.clock) + 1

        var rng = SeededRandom(seed: 7)
        var compared = 0
        for _ in 0..<150 {
            let row = oracle.rows[rng.below(oracle.rows.count)]
            let (keys, fields) = try #require(oracle.request(eventID: row.id))
            for t in [clock, clock + 1_800_000_000, clock + 3 * 86_400_000_000] {
                let vector = try memory.features(Self.request(fields), asOf: t)
                #expect(vector.names == project.servedFeatures)
                for (name, got) in zip(vector.names, vector.values) {
                    let f = try #require(project.registry.featureIndex(name))
                    let want = oracle.value(feature: f, keys: keys, fields: fields, asOf: t)
                    let matches =
                        project.registry.features[f].derived == nil
                        ? oracle.expected(feature: f, key: keys[project.registry.features[f].entity] ?? "", asOf: t)
                            .admits(got)
                        : sameValue(got, want)
                    #expect(matches, "\(name) for \(row.id) as of \(Timestamp.format(t)): \(got), oracle \(want)")
                    compared += 1
                }
            }
        }
        #expect(compared == 150 * 3 * project.servedFeatures.count)
    }

    @Test func aBadLineIsRejectedWithItsReasonAndChangesNothing() throws {
        let (project, dir) = try Self.project()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let memory = project.memory()
        guard case .rejected(let reason) = memory.ingest(#"{"event_id":"e1","event_type":"page_view"}"#) else {
            Issue.record("a line without a time or keys was not rejected")
            return
        }
        #expect(reason.contains("event_ts"), "\(reason)")
        #expect(memory.clock == nil)
        #expect(throws: FSMLError.self) { try memory.features(["user_id": "u_1"], names: ["no_such_feature"]) }
        // Nothing folded: the user has no state, so its features are missing.
        let vector = try memory.features(["user_id": "u_1"], names: ["user_views_5m"], asOf: 0)
        #expect(vector.missing == ["user_views_5m"])
    }
}
