import FeatureConfig
import FeatureCore
import Foundation
import GBDT
import Parquet
import Testing

@testable import FuzzTargets

/// The fuzzer's corpora (Fuzz/corpus/<target>/: seeds, and the inputs of crashes once fixed) run
/// through every target on each `make test`, so a fixed crash stays fixed without the fuzzer.
@Suite struct FuzzTargetsTests {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fuzz/corpus")

    static func inputs(_ target: String) throws -> [(name: String, bytes: [UInt8])] {
        let dir = corpus.appendingPathComponent(target)
        return try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted().map {
            ($0, Array(try Data(contentsOf: dir.appendingPathComponent($0))))
        }
    }

    @Test(arguments: FuzzTargets.all.map(\.name))
    func everyCorpusInputHoldsTheInvariants(target: String) throws {
        let inputs = try Self.inputs(target)
        #expect(inputs.count >= 3, "a corpus of \(inputs.count) inputs")
        for input in inputs { input.bytes.withUnsafeBytes { FuzzTargets.named(target)!.run($0) } }
    }

    @Test func everyCorpusHasItsTarget() throws {
        let dirs = try FileManager.default.contentsOfDirectory(atPath: Self.corpus.path).sorted()
        #expect(dirs == FuzzTargets.all.map(\.name).sorted())
    }

    /// Seeds that stop at the first check teach the fuzzer nothing: most reach the deep paths.
    @Test func theSeedsGetPastTheFirstCheck() throws {
        let engine = FuzzedProject.engine
        for (name, bytes) in try Self.inputs("state") {
            let value = Array(bytes.dropFirst())
            #expect(
                (try? StateCodec.decode(value, engine: engine, entity: Int(bytes[0]))) != nil,
                "\(name) no longer decodes (the reference definitions changed?)")
        }
        for name in ["reference.yaml", "cards.yaml", "rides.yaml"] {
            let text = try String(contentsOf: Self.corpus.appendingPathComponent("config/\(name)"), encoding: .utf8)
            #expect(throws: Never.self) { try RegistryLoader.parse(text, file: name) }
        }
        for (name, bytes) in try Self.inputs("model") {
            #expect(throws: Never.self, "\(name)") { try GBDTModel.load(bytes: bytes, file: name) }
        }
        for (name, _) in try Self.inputs("parquet") {
            let path = Self.corpus.appendingPathComponent("parquet/\(name)").path
            #expect(try ParquetReader(path: path).numRows > 0)
        }
    }
}
