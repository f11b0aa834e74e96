import FeatureCore
import FsmlCore
import OfflineStorage

/// One feature's agreement between the online store (evaluated as the server does) and a
/// point-in-time replay of the offline store at the same instant.
public struct ParityFeature: Sendable {
    public var name: String
    public var entity: String
    public var compared = 0
    public var mismatches = 0
    public var maxAbsDiff = 0.0
    /// (entity key, online value, offline value); NaN is a missing value.
    public var examples: [(key: String, online: Double, offline: Double)] = []

    public var mismatchRate: Double { compared > 0 ? Double(mismatches) / Double(compared) : 0 }
}

public struct ParityReport: Sendable {
    public var asOf: Micros
    public var sampled: [(entity: String, keys: Int, ofKeys: Int)]
    public var features: [ParityFeature]
    public var eventsReplayed: Int

    public var compared: Int { features.reduce(0) { $0 + $1.compared } }
    public var mismatches: Int { features.reduce(0) { $0 + $1.mismatches } }
    public var worstRate: Double { features.map(\.mismatchRate).max() ?? 0 }
}

public enum Parity {
    /// Equal as a model sees them: both missing, or the same number (to 1e-9, relative).
    public static func agree(_ a: Double, _ b: Double) -> Bool {
        if a.isNaN || b.isNaN { return a.isNaN && b.isNaN }
        return abs(a - b) <= 1e-9 * max(1, abs(a), abs(b))
    }

    /// Samples up to `sample` keys of each entity kind from the online store and compares every
    /// feature, as of `asOf` (default: just after the stream's clock, so that both sides see every
    /// event the stream folded).
    public static func run(
        registry: FeatureRegistry, online: any OnlineStore, offline: OfflineStore, sample: Int, asOf: Micros?,
        seed: UInt64 = 1, progress: Progress? = nil
    ) throws -> ParityReport {
        guard let time = try asOf ?? online.readClock().map({ $0 + 1 }) else {
            throw BuildError(description: "\(online.description) holds no stream clock; give --as-of")
        }
        let engine = FeatureEngine(registry: registry)
        var random = SeededRandom(seed: seed)
        var sampled: [(entity: String, keys: Int, ofKeys: Int)] = []
        var spineKeys: [[String?]] = Array(repeating: [], count: registry.entities.count)
        var rowEntity: [Int] = []
        var rowKey: [String] = []
        var onlineStates: [EntityState?] = []
        for e in registry.entities.indices {
            var keys = try online.keys(entity: e).sorted()
            let total = keys.count
            // A seeded partial shuffle: the same sample for the same store.
            for i in 0..<min(sample, keys.count) {
                let j = i + Int(random.next() % UInt64(keys.count - i))
                keys.swapAt(i, j)
            }
            keys = Array(keys.prefix(sample))
            sampled.append((registry.entities[e].name, keys.count, total))
            for chunk in stride(from: 0, to: keys.count, by: 1000) {
                let part = Array(keys[chunk..<min(chunk + 1000, keys.count)])
                for (k, value) in zip(part, try online.read(part.map { (e, $0) })) {
                    let state = value.flatMap(StoredValue.blob).flatMap {
                        try? StateCodec.decode($0, engine: engine, entity: e)
                    }
                    onlineStates.append(state)
                    rowEntity.append(e)
                    rowKey.append(k)
                    for x in registry.entities.indices { spineKeys[x].append(x == e ? k : nil) }
                }
            }
        }
        var options = BuildOptions()
        options.eventTimeOnly = true
        let builder = DatasetBuilder(registry: registry, store: offline, options: options)
        builder.progress = progress
        let (results, build) = try builder.evaluateSpine(
            Spine(times: Array(repeating: time, count: rowKey.count), keys: spineKeys))
        var features = registry.features.indices.map {
            ParityFeature(
                name: registry.features[$0].name, entity: registry.entities[registry.features[$0].entity].name)
        }
        let column = Dictionary(builder.features.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        for row in rowKey.indices {
            let e = rowEntity[row]
            // A request-time feature has no value per entity to compare.
            for f in registry.features.indices where registry.features[f].entity == e && !registry.isRequestTime(f) {
                guard let k = column[f] else { continue }
                let onlineValue = engine.value(feature: f, state: onlineStates[row], asOf: time)
                let offlineValue = results[row][k]
                features[f].compared += 1
                if !agree(onlineValue, offlineValue) {
                    features[f].mismatches += 1
                    if !onlineValue.isNaN && !offlineValue.isNaN {
                        features[f].maxAbsDiff = max(features[f].maxAbsDiff, abs(onlineValue - offlineValue))
                    }
                    if features[f].examples.count < 5 {
                        features[f].examples.append((rowKey[row], onlineValue, offlineValue))
                    }
                }
            }
        }
        // Only the features a dataset carries (not the helpers that only feed a ratio).
        let served = builder.features.map { features[$0] }
        return ParityReport(asOf: time, sampled: sampled, features: served, eventsReplayed: build.eventsReplayed)
    }
}
