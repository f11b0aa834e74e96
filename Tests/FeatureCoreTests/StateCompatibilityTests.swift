import FeatureConfig
import FeatureCore
import Foundation
import FsmlCore
import FsmlTestSupport
import Testing

/// States written by an earlier release must keep working after an upgrade: a checkpoint or a
/// Redis database outlives the binary that wrote it. `Fixtures/states-v1.json` holds states that
/// the state format version 1 wrote (every aggregation and window kind it knew), with the value of
/// every feature at several instants as that release computed them.
@Suite struct StateCompatibilityTests {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/states-v1.json").path

    /// The reference schema with one feature of every aggregation and window kind of version 1.
    static func registryWithEveryKind() -> FeatureRegistry { try! registry() }

    /// The registry of that release, frozen beside the states (`Fixtures/states-v1.yaml`): the
    /// reference project may change, the states' definitions may not.
    static func registry() throws -> FeatureRegistry {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/states-v1.yaml").path
        return try RegistryLoader.parse(String(contentsOfFile: path, encoding: .utf8), file: path)
    }

    /// Random events over two days for a few users, sessions and products, admitted and folded.
    static func states(_ registry: FeatureRegistry) -> StateTable {
        let states = StateTable(engine: FeatureEngine(registry: registry))
        var factory = EventFactory(registry: registry)
        var random = SeededRandom(seed: 20_260_101)
        var admission = Admission(lateness: registry.allowedLateness)
        var t = EventFactory.noon
        let types = ["page_view", "page_view", "page_view", "add_to_cart", "purchase"]
        for _ in 0..<6_000 {
            t += Micros(random.uniform() * 50_000_000)
            let jitter = Micros(random.uniform() * 120_000_000)
            let e = factory.make(
                t - jitter, type: types[random.below(types.count)], user: "u\(random.below(40))",
                session: "s\(random.below(6))", product: "p\(random.below(25))",
                price: (random.uniform() * 20_000).rounded() / 100)
            guard case .admitted = admission.admit(id: e.id(in: registry.schema), time: e.time) else { continue }
            states.fold(e)
        }
        return states
    }

    static let offsets: [Micros] = [
        1, 59 * Timestamp.microsPerSecond, 7 * Timestamp.microsPerMinute, 45 * Timestamp.microsPerMinute,
        3 * Timestamp.microsPerHour, 30 * Timestamp.microsPerHour,
    ]

    /// Run with FSML_WRITE_STATE_FIXTURE=1 only on the release whose format the fixture records.
    @Test func writtenStatesOfVersion1StillDecodeToTheSameValues() throws {
        let registry = try Self.registry()
        let engine = FeatureEngine(registry: registry)
        if ProcessInfo.processInfo.environment["FSML_WRITE_STATE_FIXTURE"] != nil {
            let states = Self.states(registry)
            var records: [[String: Any]] = []
            for e in registry.entities.indices {
                for key in states.tables[e].keys.sorted().prefix(25) {
                    let state = states.tables[e][key]!
                    let blob = StateCodec.encode(state, engine: engine, entity: e)
                    // Bit patterns in hex: JSON text would round the doubles.
                    var values: [[String?]] = []
                    for offset in Self.offsets {
                        values.append(
                            registry.features.indices.filter { registry.features[$0].entity == e }.map {
                                let v = engine.value(feature: $0, state: state, asOf: state.lastTime + offset)
                                return v.isNaN ? nil : String(v.bitPattern, radix: 16)
                            })
                    }
                    records.append([
                        "entity": registry.entities[e].name, "key": key, "state": Data(blob).base64EncodedString(),
                        "values": values,
                    ])
                }
            }
            let data = try JSONSerialization.data(
                withJSONObject: ["format_version": 1, "states": records], options: [.sortedKeys])
            try data.write(to: URL(fileURLWithPath: Self.fixture))
        }
        let root = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: Self.fixture)))
                as? [String: Any])
        let records = try #require(root["states"] as? [[String: Any]])
        #expect(records.count == 75)
        var compared = 0
        for record in records {
            let e = try #require(registry.entityIndex(record["entity"] as! String))
            let blob = [UInt8](try #require(Data(base64Encoded: record["state"] as! String)))
            let state = try StateCodec.decode(blob, engine: engine, entity: e)
            let features = registry.features.indices.filter { registry.features[$0].entity == e }
            let expected = record["values"] as! [[Any]]
            for (i, offset) in Self.offsets.enumerated() {
                for (j, f) in features.enumerated() {
                    let value = engine.value(feature: f, state: state, asOf: state.lastTime + offset)
                    let want = (expected[i][j] as? String).flatMap { UInt64($0, radix: 16) }.map(
                        Double.init(bitPattern:))
                    #expect(
                        want.map { $0 == value } ?? value.isNaN,
                        "\(registry.features[f].name) of \(record["key"]!) at +\(offset): \(String(describing: want)) vs \(value)"
                    )
                    compared += 1
                }
            }
            // What decodes re-encodes to bytes that decode to the same state.
            let again = StateCodec.encode(state, engine: engine, entity: e)
            #expect(try StateCodec.decode(again, engine: engine, entity: e) == state)
        }
        #expect(compared > 2_000)
    }
}
