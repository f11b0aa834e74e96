import EventGenerator
import FeatureConfig
import FeatureCore
import Foundation
import FsmlCore
import FsmlTestSupport
import Testing

/// The engine against the brute-force oracle on generated traffic with late, out-of-order and
/// duplicate events, at thousands of instants (random ones, event times, tile boundaries of every
/// hop, TTL expiries), for every reference feature and for a registry that uses every operation
/// and window kind (Fixtures/every-operation.yaml).
@Suite struct OracleSweepTests {
    static let reference = EventFactory.referenceRegistry()
    static let everyOperation: FeatureRegistry = {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/every-operation.yaml").path
        return try! RegistryLoader.parse(String(contentsOfFile: path, encoding: .utf8), file: path)
    }()

    struct Traffic {
        let lines: [[UInt8]]
        /// What the engine's parser and admission let through, in arrival order.
        let admitted: [(event: Event, knownAt: Micros)]
    }

    static func traffic(_ registry: FeatureRegistry, seed: UInt64) throws -> Traffic {
        var config = GeneratorConfig()
        config.events = 30_000
        config.users = 250
        config.products = 80
        config.days = 2
        config.seed = seed
        config.lateFraction = 0.08
        config.duplicateFraction = 0.03
        var bytes: [UInt8] = []
        _ = try EventGenerator(config: config).run(gzip: false) { bytes.append(contentsOf: $0) }
        let lines = bytes.split(separator: 10).map { Array($0) }
        let parser = EventParser(schema: registry.schema)
        var admission = Admission(lateness: registry.allowedLateness)
        var admitted: [(event: Event, knownAt: Micros)] = []
        for line in lines {
            let event = try line.withUnsafeBytes { parser.parse($0) }.get()
            if case .admitted(let knownAt) = admission.admit(id: event.id(in: registry.schema), time: event.time) {
                admitted.append((event, knownAt))
            }
        }
        return Traffic(lines: lines, admitted: admitted)
    }

    /// The oracle's own parsing and admission reach the engine's decisions.
    static func oracle(_ registry: FeatureRegistry, _ traffic: Traffic) throws -> FeatureOracle {
        let oracle = try FeatureOracle(registry: registry, lines: traffic.lines)
        #expect(oracle.late > 0 && oracle.duplicates > 0)
        #expect(oracle.rows.count == traffic.admitted.count)
        for (row, a) in zip(oracle.rows, traffic.admitted) where row.time != a.event.time || row.knownAt != a.knownAt {
            Issue.record(
                "admission differs at \(row.id): oracle \(row.time)/\(row.knownAt), engine \(a.event.time)/\(a.knownAt)"
            )
            break
        }
        return oracle
    }

    /// Random instants, exact event times, tile boundaries of every hop in the registry, and the
    /// instants around TTL expiry.
    static func queryTimes(
        _ registry: FeatureRegistry, _ traffic: Traffic, count: Int, rng: inout SeededRandom
    ) -> [Micros] {
        let admitted = traffic.admitted
        let first = admitted.first!.event.time
        let last = admitted.map(\.knownAt).max()!
        var times = (0..<count).map { _ in
            first + Micros(rng.uniform() * Double(last - first + Timestamp.microsPerHour))
        }
        times += (0..<count / 5).map { _ in admitted[rng.below(admitted.count)].event.time }
        var hops: Set<Micros> = []
        for f in registry.features {
            switch f.aggregate?.window {
            case .sliding(let w, let h)?: hops.formUnion([w, h])
            case .decayed(let h)?: hops.insert(h)
            default: break
            }
        }
        for hop in hops.sorted() {
            times += (0..<count / 20).map { _ in Timestamp.floorDiv(times[rng.below(times.count)], hop) * hop }
        }
        for entity in registry.entities {
            times += (0..<count / 20).flatMap { _ -> [Micros] in
                let t = admitted[rng.below(admitted.count)].event.time + entity.ttl
                return [t, t + 1]
            }
        }
        return times.sorted()
    }

    static func sweep(_ registry: FeatureRegistry, seed: UInt64, queries: Int) throws {
        let traffic = try traffic(registry, seed: seed)
        let oracle = try oracle(registry, traffic)
        let engine = FeatureEngine(registry: registry)
        let states = StateTable(engine: engine)
        var rng = SeededRandom(seed: seed)
        let times = queryTimes(registry, traffic, count: queries, rng: &rng)
        let keys = oracle.keys
        var next = 0
        var compared = 0
        var mismatches = 0
        for t in times {
            while next < traffic.admitted.count && traffic.admitted[next].knownAt < t {
                states.fold(traffic.admitted[next].event)
                next += 1
            }
            for (e, entityKeys) in keys.enumerated() {
                for _ in 0..<2 {
                    let key = rng.bernoulli(0.05) ? "unknown-key" : entityKeys[rng.below(entityKeys.count)]
                    for (f, want) in oracle.expectations(entity: e, key: key, asOf: t) {
                        let got = states.value(feature: f, key: key, asOf: t)
                        compared += 1
                        if !want.admits(got) {
                            mismatches += 1
                            if mismatches <= 20 {
                                Issue.record(
                                    "\(registry.features[f].name)[\(key)] as of \(Timestamp.format(t)): engine \(got), oracle \(want)"
                                )
                            }
                        }
                    }
                }
            }
        }
        #expect(mismatches == 0)
        #expect(compared > 20 * queries)
        // Every state survives serialization with its values intact.
        let last = traffic.admitted.map(\.knownAt).max()! + 1
        for (e, table) in states.tables.enumerated() {
            for (key, state) in table {
                let bytes = StateCodec.encode(state, engine: engine, entity: e)
                let back = try StateCodec.decode(bytes, engine: engine, entity: e)
                #expect(back == state)
                #expect(StateCodec.encode(back, engine: engine, entity: e) == bytes)
                for f in registry.features.indices where registry.features[f].entity == e {
                    #expect(
                        sameValue(
                            engine.value(feature: f, state: back, asOf: last),
                            states.value(feature: f, key: key, asOf: last)))
                }
            }
        }
    }

    @Test(arguments: [11, 12] as [UInt64])
    func referenceFeaturesEqualTheOracleAtRandomTimes(seed: UInt64) throws {
        try Self.sweep(Self.reference, seed: seed, queries: 1500)
    }

    @Test(arguments: [13, 14] as [UInt64])
    func everyOperationEqualsTheOracleAtRandomTimes(seed: UInt64) throws {
        try Self.sweep(Self.everyOperation, seed: seed, queries: 1000)
    }

    @Test func eventTimeOnlyFoldingEqualsTheOracleToo() throws {
        for registry in [Self.reference, Self.everyOperation] {
            let traffic = try Self.traffic(registry, seed: 21)
            let oracle = try Self.oracle(registry, traffic)
            let states = StateTable(engine: FeatureEngine(registry: registry))
            let byTime = traffic.admitted.map(\.event).sorted { $0.time < $1.time }
            var rng = SeededRandom(seed: 3)
            let times = (0..<400).map { _ in
                byTime.first!.time + Micros(rng.uniform() * Double(byTime.last!.time - byTime.first!.time))
            }.sorted()
            var next = 0
            let keys = oracle.keys
            for t in times {
                while next < byTime.count && byTime[next].time < t {
                    states.fold(byTime[next])
                    next += 1
                }
                for (e, entityKeys) in keys.enumerated() {
                    let key = entityKeys[rng.below(entityKeys.count)]
                    for f in registry.features.indices where registry.features[f].entity == e {
                        let got = states.value(feature: f, key: key, asOf: t)
                        let want = oracle.expected(feature: f, key: key, asOf: t, eventTimeOnly: true)
                        #expect(want.admits(got), "\(registry.features[f].name)[\(key)] at \(Timestamp.format(t))")
                    }
                }
            }
        }
    }

    @Test func evictingExpiredStatesChangesNoValue() throws {
        for registry in [Self.reference, Self.everyOperation] {
            let traffic = try Self.traffic(registry, seed: 31)
            let engine = FeatureEngine(registry: registry)
            let kept = StateTable(engine: engine)
            let evicting = StateTable(engine: engine)
            var admission = Admission(lateness: registry.allowedLateness)
            for (i, a) in traffic.admitted.enumerated() {
                _ = admission.admit(id: a.event.id(in: registry.schema), time: a.event.time)
                kept.fold(a.event)
                evicting.fold(a.event)
                if i % 500 == 0 { evicting.evictExpired(watermark: admission.watermark) }
            }
            evicting.evictExpired(watermark: admission.watermark)
            #expect(evicting.entityCount < kept.entityCount)
            let t = admission.clock + 1
            for (e, table) in kept.tables.enumerated() {
                for key in table.keys {
                    for f in registry.features.indices where registry.features[f].entity == e {
                        #expect(
                            sameValue(
                                kept.value(feature: f, key: key, asOf: t),
                                evicting.value(feature: f, key: key, asOf: t)))
                    }
                }
            }
        }
    }
}
