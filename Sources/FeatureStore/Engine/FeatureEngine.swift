import FsmlCore

/// Entity states in memory, one table per entity kind, fed event by event. The stream job keeps
/// one as its working state; the point-in-time builder keeps one while it replays the offline
/// store. Reads go through the same `EngineLayout.value`.
public final class FeatureEngine {
    public let layout: EngineLayout
    public private(set) var tables: [[String: EntityState]]
    /// Keys changed since the last `takeChanges()`, per entity kind, when tracking is on.
    private var changed: [Set<String>]
    public var tracksChanges: Bool
    /// Which entity kinds this engine folds (a stream job can be split by entity kind).
    public let entityKinds: [Int]

    public init(layout: EngineLayout, entityKinds: [Int]? = nil, tracksChanges: Bool = false) {
        self.layout = layout
        let kinds = entityKinds ?? Array(layout.entities.indices)
        self.entityKinds = kinds
        tables = Array(repeating: [:], count: layout.entities.count)
        changed = Array(repeating: [], count: layout.entities.count)
        self.tracksChanges = tracksChanges
    }

    /// Folds an admitted event into every entity it names. An event without a key for an entity
    /// (an optional key field left out) does not touch that entity.
    public func fold(_ event: Event) {
        let mask = layout.filterMask(event)
        for e in entityKinds {
            guard let key = layout.entities[e].keyMaker.key(event) else { continue }
            layout.fold(event, into: &tables[e][key, default: layout.emptyState(entity: e)], entity: e, mask: mask)
            if tracksChanges { changed[e].insert(key) }
        }
    }

    public func state(entity e: Int, key: String) -> EntityState? { tables[e][key] }

    public func setState(_ state: EntityState, entity e: Int, key: String) { tables[e][key] = state }

    public func value(feature f: Int, key: String, asOf t: Micros) -> Double {
        layout.value(feature: f, state: tables[layout.registry.features[f].entity][key], asOf: t)
    }

    public var entityCount: Int { tables.reduce(0) { $0 + $1.count } }

    /// The keys changed since the last call, per entity kind; clears them.
    public func takeChanges() -> [Set<String>] {
        defer { changed = Array(repeating: [], count: layout.entities.count) }
        return changed
    }

    /// Drops states that expired before the watermark. Any later admitted event is at or after the
    /// watermark, so it would find such an entity expired and start it over anyway; dropping it
    /// changes no value and keeps memory bounded by the active entities.
    @discardableResult
    public func evictExpired(watermark: Micros) -> Int {
        guard watermark != .min else { return 0 }
        var evicted = 0
        for e in entityKinds {
            let ttl = layout.entities[e].entity.ttl
            let before = tables[e].count
            tables[e] = tables[e].filter { watermark - $0.value.lastTime <= ttl }
            evicted += before - tables[e].count
        }
        return evicted
    }
}
