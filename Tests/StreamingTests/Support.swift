import EventGenerator
import FeatureCore
import Foundation
import FsmlCore
import FsmlTestSupport
import OfflineStorage
import OnlineStorage
import PointInTime

@testable import Streaming

enum StreamFixture {
    static let registry = EventFactory.referenceRegistry()

    static func temporaryDirectory() -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fsml-stream-\(UUID().uuidString)").path
        try! FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    /// Generated events with late arrivals, duplicates and malformed lines, as JSONL bytes.
    static func lines(seed: UInt64, events: Int = 6_000) throws -> [UInt8] {
        var config = GeneratorConfig()
        config.events = events
        config.users = 80
        config.products = 40
        config.days = 2
        config.seed = seed
        config.lateFraction = 0.06
        config.duplicateFraction = 0.03
        config.malformedFraction = 0.01
        var bytes: [UInt8] = []
        _ = try EventGenerator(config: config).run(gzip: false) { bytes.append(contentsOf: $0) }
        return bytes
    }

    static func write(_ bytes: [UInt8], to path: String) throws {
        try FileSystem.writeAtomically(bytes, to: path)
    }

    /// The batch result for the same arrival order: every line through the intake, every admitted
    /// event folded into one engine.
    static func oracle(
        _ bytes: [UInt8], entityKinds: [Int]? = nil
    ) -> (states: StateTable, intake: Intake, admitted: [StoredEvent]) {
        let states = StateTable(engine: FeatureEngine(registry: registry), entityKinds: entityKinds)
        var intake = Intake(schema: registry.schema, lateness: registry.allowedLateness)
        var sink = CollectingSink()
        for (i, line) in bytes.split(separator: 10, omittingEmptySubsequences: false).enumerated() where !line.isEmpty {
            try! Array(line).withUnsafeBytes {
                try intake.take($0, origin: Origin(source: "-", line: i + 1), into: &sink)
            }
        }
        try! intake.finish(into: &sink)
        for stored in sink.admitted { states.fold(stored.event) }
        return (states, intake, sink.admitted)
    }

    static func options(_ dir: String, name: String = "stream") -> StreamOptions {
        var o = StreamOptions(name: name, checkpointDirectory: "\(dir)/checkpoints", rejectDirectory: "\(dir)/rejects")
        o.checkpointInterval = 0.05
        return o
    }

    /// Every state the engine holds, compared with what the store holds for the same key. Returns
    /// a description of each difference; `mayBeMissing` says which keys a store may have dropped.
    static func differences(
        _ states: StateTable, _ store: any OnlineStore,
        mayBeMissing: (Int, String, EntityState) -> Bool = { _, _, _ in false }
    ) throws -> [String] {
        var out: [String] = []
        for e in states.entityKinds {
            let entries = states.tables[e].sorted { $0.key < $1.key }
            let stored = try store.read(entries.map { (entity: e, key: $0.key) })
            for ((key, state), value) in zip(entries, stored) {
                let expected = StateCodec.encode(state, engine: states.engine, entity: e)
                guard let value else {
                    if !mayBeMissing(e, key, state) { out.append("\(e)/\(key): missing") }
                    continue
                }
                if StoredValue.blob(value) != expected || StoredValue.lastTime(value) != state.lastTime {
                    out.append("\(e)/\(key): differs")
                }
            }
        }
        return out
    }

    /// The offline store's rows in arrival order.
    static func offlineRows(_ store: OfflineStore) throws -> [StoredEvent] {
        let scanner = try OfflineStoreScanner(store: store, schema: registry.schema)
        var out: [StoredEvent] = []
        while let e = try scanner.next() { out.append(e) }
        return out
    }

    static func lineCount(_ path: String) -> Int {
        guard let bytes = try? FileSystem.readBytes(path) else { return 0 }
        return bytes.filter { $0 == 10 }.count
    }
}
