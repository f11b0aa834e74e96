import Foundation
import FsmlCore
import Testing

@testable import Tracking

/// MLflow's file-store registry as fsml writes it: versions by run, aliases by version.
/// (tests/interop/check_mlflow.py reads what the command-line tests register with MLflow itself.)
@Suite struct ModelRegistryTests {
    static func finishedRun(
        _ store: TrackingStore, _ e: ExperimentMeta, name: String, model: Bool = true
    ) throws
        -> RunRecord
    {
        let run = try RunWriter(store: store, experiment: e, name: name)
        if model { _ = try run.writeArtifact("flavors: {}\n", as: "model/MLmodel") }
        try run.end()
        return run.snapshot
    }

    @Test func aRunIsRegisteredOnceAndAliasesFollowPromotions() throws {
        let store = try TrackingStoreTests.temporaryStore()
        defer { try? FileManager.default.removeItem(atPath: store.root) }
        let e = try store.experimentCreatingIfNeeded("ctr")
        let (a, b) = (try Self.finishedRun(store, e, name: "a"), try Self.finishedRun(store, e, name: "b"))
        let registry = ModelRegistry(store: store)

        let (first, created) = try registry.register(a, name: "ctr-model", alias: "champion")
        #expect(first == .init(name: "ctr-model", version: 1, runID: a.id) && created)
        let (again, createdAgain) = try registry.register(a, name: "ctr-model", alias: "champion")
        #expect(again.version == 1 && !createdAgain)
        let (second, _) = try registry.register(b, name: "ctr-model", alias: "challenger")
        #expect(second.version == 2)
        #expect(registry.aliases(name: "ctr-model") == ["champion": 1, "challenger": 2])
        _ = try registry.register(b, name: "ctr-model", alias: "champion")
        #expect(registry.aliases(name: "ctr-model") == ["champion": 2, "challenger": 2])
        #expect(registry.versions(name: "ctr-model").map(\.runID) == [a.id, b.id])

        // The files as MLflow's FileStore reads them.
        let dir = store.root + "/models/ctr-model"
        #expect(try FileSystem.readText(dir + "/aliases/champion") == "2")
        let version = try FileSystem.readText(dir + "/version-2/meta.yaml")
        #expect(version.contains("source: 'runs:/\(b.id)/model'") && version.contains("version: 2\n"))
        #expect(version.contains("current_stage: None") && version.contains("status: READY"))
        let model = try FileSystem.readText(dir + "/meta.yaml")
        #expect(model.hasPrefix("aliases:\n  challenger: '2'\n  champion: '2'\ncreation_timestamp: "))
        #expect(model.contains("name: 'ctr-model'"))
    }

    @Test func refusesWhatMLflowsRegistryWould() throws {
        let store = try TrackingStoreTests.temporaryStore()
        defer { try? FileManager.default.removeItem(atPath: store.root) }
        let e = try store.experimentCreatingIfNeeded("ctr")
        let run = try Self.finishedRun(store, e, name: "a")
        let registry = ModelRegistry(store: store)
        for alias in ["latest", "v3", "V12", "a/b", ""] {
            #expect(throws: (any Error).self, "\(alias)") { try registry.register(run, name: "m", alias: alias) }
        }
        for name in ["..", "a/b", ""] {
            #expect(throws: (any Error).self, "\(name)") { try registry.register(run, name: name, alias: "prod") }
        }
        let bare = try Self.finishedRun(store, e, name: "no-model", model: false)
        #expect(throws: TrackingError.self) { try registry.register(bare, name: "m", alias: "prod") }
        #expect(!FileSystem.exists(store.root + "/models/m"))
        #expect(try registry.register(run, name: "m", alias: "v1x").0.version == 1)
    }
}
