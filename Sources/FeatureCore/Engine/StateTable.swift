import FsmlCore

/// Entity states in memory, one table per entity kind, fed event by event. The stream job keeps
/// one as its working state; the point-in-time builder keeps one while it replays the offline
/// store. Reads go through the same `FeatureEngine.value`.
public final class StateTable {
    public let engine: FeatureEngine
    public private(set) var tables: [[String: EntityState]]
    /// Keys changed since the last `takeChanges()`, per entity kind, when tracking is on.
    private var changed: [Set<String>]
    public var tracksChanges: Bool
    /// Which entity kinds this table folds (a stream job can be split by entity kind).
    public let entityKinds: [Int]

    public init(engine: FeatureEngine, entityKinds: [Int]? = nil, tracksChanges: Bool = false) {
        self.engine = engine
        let kinds = entityKinds ?? Array(engine.entities.indices)
        self.entityKinds = kinds
        tables = Array(repeating: [:], count: engine.entities.count)
        changed = Array(repeating: [], count: engine.entities.count)
        self.tracksChanges = tracksChanges
    }

    /// Folds an admitted event into every entity it names. An event without a key for an entity
    /// (an optional key field left out) does not touch that entity.
    public func fold(_ event: Event) {
        let mask = engine.filterMask(event)
        for e in entityKinds {
            guard let key = engine.entities[e].keyMaker.key(event) else { continue }
            engine.fold(event, into: &tables[e][key, default: engine.emptyState(entity: e)], entity: e, mask: mask)
            if tracksChanges { changed[e].insert(key) }
        }
    }

    public func state(entity e: Int, key: String) -> EntityState? { tables[e][key] }

    public func setState(_ state: EntityState, entity e: Int, key: String) { tables[e][key] = state }

    public func value(feature f: Int, key: String, asOf t: Micros) -> Double {
        engine.value(feature: f, state: tables[engine.featureEntities[f]][key], asOf: t)
    }

    public var entityCount: Int { tables.reduce(0) { $0 + $1.count } }

    /// The keys changed since the last call, per entity kind; clears them.
    public func takeChanges() -> [Set<String>] {
        defer { changed = Array(repeating: [], count: engine.entities.count) }
        return changed
    }

    /// Drops states that expired before the watermark. Any later admitted event is at or after the
    /// watermark, so it would find such an entity expired and start it over anyway; dropping it
    /// changes no value and keeps memory bounded by the active entities.
    /// Returns the evicted keys per entity kind. Keys are removed one by one rather than the table
    /// rebuilt: most checkpoints evict a few states out of hundreds of thousands.
    @discardableResult
    public func evictExpired(watermark: Micros) -> [[String]] {
        var evicted = [[String]](repeating: [], count: engine.entities.count)
        guard watermark != .min else { return evicted }
        for e in entityKinds {
            let ttl = engine.entities[e].entity.ttl
            for (key, state) in tables[e] where watermark - state.lastTime > ttl { evicted[e].append(key) }
            for key in evicted[e] { tables[e].removeValue(forKey: key) }
        }
        return evicted
    }
}
