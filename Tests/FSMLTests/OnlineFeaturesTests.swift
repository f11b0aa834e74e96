import FSML
import FeatureCore
import Foundation
import FsmlCore
import OnlineStorage
import Testing

/// The online store's states (as `fsml stream` writes them, one record per key) read through the
/// embedded library: the same vectors as the states folded in memory.
@Suite struct OnlineFeaturesTests {
    @Test func aStoreReadsTheVectorsOfTheStatesItHolds() throws {
        let (project, dir) = try FeatureMemoryTests.project()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let lines = try FeatureMemoryTests.traffic(seed: 11)
        let memory = project.memory()
        // The same events folded here, by the engine, to write the store.
        let registry = project.registry
        let engine = FeatureEngine(registry: registry)
        let states = StateTable(engine: engine)
        let parser = EventParser(schema: registry.schema)
        var admission = Admission(lateness: registry.allowedLateness)
        var requests: [[String: FieldValue]] = []
        for line in lines {
            memory.ingest(String(decoding: line, as: UTF8.self))
            let event = try line.withUnsafeBytes { parser.parse($0) }.get()
            guard case .admitted = admission.admit(id: event.id(in: registry.schema), time: event.time) else {
                continue
            }
            states.fold(event)
            if requests.count < 300 && event.values.hashValue % 7 == 0 {
                var fields: [String: FieldValue] = [:]
                for (i, f) in registry.schema.fields.enumerated() where event.values[i] != .missing {
                    fields[f.name] = event.values[i]
                }
                requests.append(fields)
            }
        }
        let store = try SQLiteOnlineStore(path: "\(dir)/online.db", entities: registry.entities)
        var records: [StateRecord] = []
        for e in registry.entities.indices {
            states.forEach(entity: e) { key, state in
                records.append(
                    StateRecord(
                        entity: e, key: key, lastTime: state.lastTime,
                        blob: StateCodec.encode(state, engine: engine, entity: e)))
            }
        }
        try store.write(records)
        let clock = try #require(memory.clock)
        try store.writeClock(clock)

        let online = try project.onlineFeatures(url: "sqlite:online.db")
        #expect(try online.clock() == clock)
        #expect(requests.count > 100)
        for request in requests {
            let fromStore = try online.features(request)
            let inMemory = try memory.features(request)
            #expect(fromStore.names == inMemory.names)
            #expect(
                zip(fromStore.values, inMemory.values).allSatisfy { $0 == $1 || ($0.isNaN && $1.isNaN) },
                "\(request): \(fromStore.values) vs \(inMemory.values)")
        }
        // A key the store has never seen: its entity's features are missing.
        let stranger = try online.features(["user_id": "nobody"], names: ["user_views_5m"])
        #expect(stranger.missing == ["user_views_5m"])
    }
}
