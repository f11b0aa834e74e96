import EventGenerator
import FeatureCore
import FsmlCore
import FsmlTestSupport
import Testing

/// The engine against the brute-force oracle on generated traffic with late, out-of-order and
/// duplicate events, at thousands of random as-of times, for every reference feature.
@Suite struct OracleSweepTests {
    static let registry = EventFactory.referenceRegistry()

    /// Generated lines, parsed and admitted in arrival order.
    static func admittedEvents(seed: UInt64) throws -> [FeatureOracle.Admitted] {
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
        let parser = EventParser(schema: registry.schema)
        var admission = Admission(lateness: registry.allowedLateness)
        var out: [FeatureOracle.Admitted] = []
        var late = 0
        var duplicates = 0
        for line in bytes.split(separator: 10) {
            let event = try Array(line).withUnsafeBytes { parser.parse($0) }.get()
            switch admission.admit(id: event.id(in: registry.schema), time: event.time) {
            case .admitted(let knownAt): out.append(.init(event: event, knownAt: knownAt))
            case .late: late += 1
            case .duplicate: duplicates += 1
            }
        }
        #expect(late > 0 && duplicates > 0)
        return out
    }

    @Test(arguments: [11, 12] as [UInt64])
    func engineEqualsOracleAtRandomTimes(seed: UInt64) throws {
        let registry = Self.registry
        let admitted = try Self.admittedEvents(seed: seed)
        let oracle = FeatureOracle(registry: registry, events: admitted)
        let engine = FeatureEngine(registry: registry)
        let states = StateTable(engine: engine)
        var rng = SeededRandom(seed: seed)
        let first = admitted.first!.event.time
        let last = admitted.map(\.knownAt).max()!
        // Query times: random, plus exact event times and tile boundaries, where rules bite.
        var times = (0..<1500).map { _ in first + Micros(rng.uniform() * Double(last - first + Timestamp.microsPerHour))
        }
        times += (0..<300).map { _ in admitted[rng.below(admitted.count)].event.time }
        times += (0..<200).map { _ in
            Timestamp.floorDiv(times[rng.below(times.count)], Timestamp.microsPerMinute) * Timestamp.microsPerMinute
        }
        times.sort()
        let keys = oracle.keys
        var next = 0
        var compared = 0
        for t in times {
            while next < admitted.count && admitted[next].knownAt < t {
                states.fold(admitted[next].event)
                next += 1
            }
            for (e, entityKeys) in keys.enumerated() {
                for _ in 0..<2 {
                    let key = rng.bernoulli(0.05) ? "unknown-key" : entityKeys[rng.below(entityKeys.count)]
                    for f in registry.features.indices where registry.features[f].entity == e {
                        let got = states.value(feature: f, key: key, asOf: t)
                        let want = oracle.value(feature: f, key: key, asOf: t)
                        if !sameValue(got, want) {
                            Issue.record(
                                "\(registry.features[f].name)[\(key)] as of \(Timestamp.format(t)): engine \(got), oracle \(want)"
                            )
                        }
                        compared += 1
                    }
                }
            }
        }
        #expect(compared > 30_000)
        // Every state survives serialization with its values intact.
        for (e, table) in states.tables.enumerated() {
            for (key, state) in table {
                let back = try StateCodec.decode(
                    StateCodec.encode(state, engine: engine, entity: e), engine: engine, entity: e)
                #expect(back == state)
                for f in registry.features.indices where registry.features[f].entity == e {
                    #expect(
                        sameValue(
                            engine.value(feature: f, state: back, asOf: last + 1),
                            states.value(feature: f, key: key, asOf: last + 1)))
                }
            }
        }
    }

    @Test func eventTimeOnlyFoldingEqualsTheOracleToo() throws {
        let registry = Self.registry
        let admitted = try Self.admittedEvents(seed: 21)
        let oracle = FeatureOracle(registry: registry, events: admitted)
        let states = StateTable(engine: FeatureEngine(registry: registry))
        let byTime = admitted.sorted { $0.event.time < $1.event.time }
        var rng = SeededRandom(seed: 3)
        let times = (0..<600).map { _ in
            byTime.first!.event.time
                + Micros(rng.uniform() * Double(byTime.last!.event.time - byTime.first!.event.time))
        }.sorted()
        var next = 0
        let keys = oracle.keys
        for t in times {
            while next < byTime.count && byTime[next].event.time < t {
                states.fold(byTime[next].event)
                next += 1
            }
            for (e, entityKeys) in keys.enumerated() {
                let key = entityKeys[rng.below(entityKeys.count)]
                for f in registry.features.indices where registry.features[f].entity == e {
                    let got = states.value(feature: f, key: key, asOf: t)
                    let want = oracle.value(feature: f, key: key, asOf: t, eventTimeOnly: true)
                    #expect(sameValue(got, want), "\(registry.features[f].name)[\(key)] at \(Timestamp.format(t))")
                }
            }
        }
    }

    @Test func evictingExpiredStatesChangesNoValue() throws {
        let registry = Self.registry
        let admitted = try Self.admittedEvents(seed: 31)
        let engine = FeatureEngine(registry: registry)
        let kept = StateTable(engine: engine)
        let evicting = StateTable(engine: engine)
        var admission = Admission(lateness: registry.allowedLateness)
        for (i, a) in admitted.enumerated() {
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
                            kept.value(feature: f, key: key, asOf: t), evicting.value(feature: f, key: key, asOf: t)))
                }
            }
        }
    }
}
