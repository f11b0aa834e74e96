import FsmlCore

/// Entity states in memory, one table per entity kind, fed event by event. The stream job keeps
/// one as its working state; the point-in-time builder keeps one while it replays the offline
/// store. Reads go through the same `FeatureEngine.value`.
///
/// Each kind's keys get dense ids (`EntityKeyTable`) and its states live in an array by id, so a fold
/// hashes each key once and growth moves ids, not states.
public final class StateTable {
    public let engine: FeatureEngine
    private var kinds: [Kind]
    public var tracksChanges: Bool
    /// Which entity kinds this table folds (a stream job can be split by entity kind).
    public let entityKinds: [Int]

    /// Whether the keys are fixed: only they are folded, and they stay when their states are
    /// evicted (see `init(engine:keys:)`).
    private let keepsKeys: Bool
    /// What an id without a state holds: no slots, nothing seen.
    private static let gone = EntityState(lastTime: .min, slots: [])

    private struct Kind {
        var keys = EntityKeyTable()
        var slotCount = 0
        /// By id; `gone` where an id has no state.
        var states: [EntityState] = []
        /// Ids changed since the last `takeChanges()`, each once, and a flag per id saying so.
        var changed: [Int32] = []
        var isChanged: [Bool] = []
    }

    public init(engine: FeatureEngine, entityKinds: [Int]? = nil, tracksChanges: Bool = false) {
        self.engine = engine
        let kinds = entityKinds ?? Array(engine.entities.indices)
        self.entityKinds = kinds
        self.kinds = engine.entities.map { Kind(slotCount: $0.slots.count) }
        self.tracksChanges = tracksChanges
        keepsKeys = false
    }

    /// A table for the keys of `keys` alone (one table per entity kind), whose ids it keeps:
    /// events of other keys are not folded (their states would never be read), and evicting a
    /// state leaves its key and id, so ids handed out before stay valid (`state(entity:id:)`).
    /// For a build, whose keys are known from its examples or its spine.
    public init(engine: FeatureEngine, keys: [EntityKeyTable], entityKinds: [Int]? = nil) {
        precondition(keys.count == engine.entities.count)
        self.engine = engine
        self.entityKinds = entityKinds ?? Array(engine.entities.indices)
        kinds = zip(engine.entities, keys).map { plan, keys in
            Kind(
                keys: keys, slotCount: plan.slots.count,
                states: Array(repeating: Self.gone, count: keys.keys.count),
                isChanged: Array(repeating: false, count: keys.keys.count))
        }
        tracksChanges = false
        keepsKeys = true
    }

    /// Folds an admitted event into every entity it names. An event without a key for an entity
    /// (an optional key field left out) does not touch that entity.
    public func fold(_ event: Event) {
        let mask = engine.filterMask(event)
        for e in entityKinds {
            guard let key = engine.entities[e].keyMaker.key(event), let id = slot(entity: e, key: key) else {
                continue
            }
            engine.fold(event, into: &kinds[e].states[id], entity: e, mask: mask)
            if tracksChanges && !kinds[e].isChanged[id] {
                kinds[e].isChanged[id] = true
                kinds[e].changed.append(Int32(id))
            }
        }
    }

    /// The id of `key`'s state, an empty state made for it when it has none; nil for a key that a
    /// table with fixed keys does not hold.
    @inline(__always)
    private func slot(entity e: Int, key: String) -> Int? {
        let hash = EntityKeyTable.hash(key)
        let id: Int
        if keepsKeys {
            guard let known = kinds[e].keys.find(key, hash: hash) else { return nil }
            id = Int(known)
        } else {
            id = Int(kinds[e].keys.id(key, hash: hash).id)
        }
        if id == kinds[e].states.count {
            kinds[e].states.append(engine.emptyState(entity: e))
            kinds[e].isChanged.append(false)
        } else if kinds[e].states[id].slots.count != kinds[e].slotCount {
            // A new key on a reused id, or a key whose state was evicted: both hold `gone`.
            kinds[e].states[id] = engine.emptyState(entity: e)
        }
        return id
    }

    public func state(entity e: Int, key: String) -> EntityState? {
        kinds[e].keys.find(key, hash: EntityKeyTable.hash(key)).flatMap { state(entity: e, id: $0) }
    }

    /// The state of the key with this id in the table's key table; nil when it has none.
    public func state(entity e: Int, id: Int32) -> EntityState? {
        guard Int(id) < kinds[e].states.count else { return nil }
        let state = kinds[e].states[Int(id)]
        return state.slots.count == kinds[e].slotCount && !state.isEmpty ? state : nil
    }

    public func setState(_ state: EntityState, entity e: Int, key: String) {
        guard let id = slot(entity: e, key: key) else { preconditionFailure("\(key) is not one of the table's keys") }
        kinds[e].states[id] = state
    }

    public func value(feature f: Int, key: String, asOf t: Micros) -> Double {
        engine.value(feature: f, state: state(entity: engine.featureEntities[f], key: key), asOf: t)
    }

    public var entityCount: Int { kinds.reduce(0) { $0 + $1.keys.count } }

    /// How many states of one kind the table holds.
    public func count(entity e: Int) -> Int { kinds[e].keys.count }

    /// Calls `body` with every state of one kind and its key, in no particular order.
    public func forEach(entity e: Int, _ body: (String, EntityState) throws -> Void) rethrows {
        let kind = kinds[e]
        for id in kind.keys.live.indices where kind.keys.live[id] && kind.states[id].slots.count == kind.slotCount {
            try body(kind.keys.keys[id], kind.states[id])
        }
    }

    /// Every state by key, per entity kind: a copy, for reports and tests.
    public var tables: [[String: EntityState]] {
        kinds.indices.map { e in
            var table: [String: EntityState] = [:]
            table.reserveCapacity(count(entity: e))
            forEach(entity: e) { table[$0] = $1 }
            return table
        }
    }

    /// The keys changed since the last call, per entity kind; clears them. A key changed and then
    /// evicted is not among them (eviction reports it).
    public func takeChanges() -> [Set<String>] { takeChangedStates().map { Set($0.map(\.key)) } }

    /// The states changed since the last call with their keys, per entity kind; clears them. What
    /// a writer of changes needs, without looking each key up again.
    public func takeChangedStates() -> [[(key: String, state: EntityState)]] {
        kinds.indices.map { e in
            var out: [(key: String, state: EntityState)] = []
            out.reserveCapacity(kinds[e].changed.count)
            for id in kinds[e].changed {
                kinds[e].isChanged[Int(id)] = false
                if kinds[e].keys.live[Int(id)] { out.append((kinds[e].keys.keys[Int(id)], kinds[e].states[Int(id)])) }
            }
            kinds[e].changed.removeAll(keepingCapacity: true)
            return out
        }
    }

    /// Drops states that expired before the watermark. Any later admitted event is at or after the
    /// watermark, so it would find such an entity expired and start it over anyway; dropping it
    /// changes no value and keeps memory bounded by the active entities.
    /// Returns the evicted keys per entity kind.
    @discardableResult
    public func evictExpired(watermark: Micros) -> [[String]] {
        var evicted = [[String]](repeating: [], count: engine.entities.count)
        guard watermark != .min else { return evicted }
        for e in entityKinds {
            let ttl = engine.entities[e].entity.ttl
            for id in kinds[e].states.indices where kinds[e].keys.live[id] {
                let last = kinds[e].states[id].lastTime
                guard last != .min && watermark - last > ttl else { continue }
                evicted[e].append(kinds[e].keys.keys[id])
                if !keepsKeys { kinds[e].keys.remove(id: Int32(id)) }
                kinds[e].states[id] = Self.gone
            }
        }
        return evicted
    }
}
