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
    /// What an id without a state holds: no storage, nothing seen.
    private static let gone = EntityState(lastTime: .min, storage: nil)
    /// What a retired id holds (`retire`): no storage, and a time no event has.
    private static let retired = EntityState(lastTime: .max, storage: nil)

    private struct Kind {
        var keys = EntityKeyTable()
        /// By id; `gone` where an id has no state.
        var states: [EntityState] = []
        /// Ids changed since the last `takeChanges()`, each once, and a flag per id saying so.
        var changed: [Int32] = []
        var isChanged: [Bool] = []

        @inline(__always)
        mutating func fold(_ event: Event, id: Int, mask: UInt64, engine: FeatureEngine, entity e: Int, tracks: Bool) {
            engine.fold(event, into: &states[id], entity: e, mask: mask)
            if tracks && !isChanged[id] {
                isChanged[id] = true
                changed.append(Int32(id))
            }
        }

        /// In a table with fixed keys, the id given (a key's id in its table) if its state can be
        /// folded, an empty state made for it when it has none; nil for a retired key.
        @inline(__always)
        mutating func slot(id: Int, engine: FeatureEngine, entity e: Int) -> Int? {
            if states[id].storage == nil {
                if states[id].lastTime == StateTable.retired.lastTime { return nil }
                states[id] = engine.emptyState(entity: e)
            }
            return id
        }

        /// The id of `key`'s state, an empty state made for it when it has none; nil for a key
        /// that a table with fixed keys does not hold.
        @inline(__always)
        mutating func slot(key: String, hash: UInt64, engine: FeatureEngine, entity e: Int, fixed: Bool) -> Int? {
            if fixed {
                guard let known = keys.find(key, hash: hash) else { return nil }
                return slot(found: Int(known), engine: engine, entity: e)
            }
            return slot(found: Int(keys.id(key, hash: hash).id), engine: engine, entity: e)
        }

        /// `slot(key:...)` for the key whose text is `bytes`.
        @inline(__always)
        mutating func slot(
            bytes: UnsafeRawBufferPointer, hash: UInt64, engine: FeatureEngine, entity e: Int, fixed: Bool
        ) -> Int? {
            if fixed {
                guard let known = keys.find(bytes: bytes, hash: hash) else { return nil }
                return slot(found: Int(known), engine: engine, entity: e)
            }
            return slot(found: Int(keys.id(bytes: bytes, hash: hash).id), engine: engine, entity: e)
        }

        /// The state of the key with id `id`, made when the id is new or its state was evicted;
        /// nil when the key is retired.
        @inline(__always)
        mutating func slot(found id: Int, engine: FeatureEngine, entity e: Int) -> Int? {
            if id == states.count {
                states.append(engine.emptyState(entity: e))
                isChanged.append(false)
            } else if states[id].storage == nil {
                if states[id].lastTime == StateTable.retired.lastTime { return nil }
                // A new key on a reused id, or a key whose state was evicted: both hold `gone`.
                states[id] = engine.emptyState(entity: e)
            }
            return id
        }
    }

    public init(engine: FeatureEngine, entityKinds: [Int]? = nil, tracksChanges: Bool = false) {
        self.engine = engine
        let kinds = entityKinds ?? Array(engine.entities.indices)
        self.entityKinds = kinds
        self.kinds = engine.entities.map { _ in Kind() }
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
                keys: keys,
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
            kinds[e].fold(event, id: id, mask: mask, engine: engine, entity: e, tracks: tracksChanges)
        }
    }

    /// Folds admitted events in order, as `fold` one by one would, a few at a time in passes: the
    /// keys of all of them, then their buckets, the keys and states the buckets point to, the ids,
    /// and last the folds. A pass touches memory that later ones read, in a loop short enough
    /// that the processor has many of those reads in flight at once: the cache misses of a batch
    /// (a bucket, a key and a state per entity, at random places in large tables) overlap instead
    /// of coming one after the other.
    public func fold(count: Int, _ event: (Int) -> Event) {
        var start = 0
        while start < count {
            let end = min(start + Self.batch, count)
            batchEvents.removeAll(keepingCapacity: true)
            for i in start..<end { batchEvents.append(event(i)) }
            foldBatch()
            start = end
        }
        batchEvents.removeAll(keepingCapacity: true)
    }

    public func fold(_ events: [Event]) { fold(count: events.count) { events[$0] } }

    /// `fold(count:_:)` in a table with fixed keys, where some events' keys already have their ids
    /// (a build's example events, whose keys its first pass gave ids): `knownId(i, e)` is event
    /// i's key id of entity kind e (-1 when the event has no such key), or nil to build and look up
    /// the key. The folds are the same; a known id skips making the key and hashing it.
    public func fold(count: Int, _ event: (Int) -> Event, knownId: (_ event: Int, _ entity: Int) -> Int32?) {
        precondition(keepsKeys, "known ids are ids of a table with fixed keys")
        var start = 0
        while start < count {
            let end = min(start + Self.batch, count)
            batchEvents.removeAll(keepingCapacity: true)
            batchKnown.removeAll(keepingCapacity: true)
            for i in start..<end {
                batchEvents.append(event(i))
                for e in entityKinds { batchKnown.append(knownId(i, e) ?? Self.unknownId) }
            }
            foldBatch()
            start = end
        }
        batchEvents.removeAll(keepingCapacity: true)
        batchKnown.removeAll(keepingCapacity: true)
    }

    /// In `batchKnown`: the key is to be made and looked up.
    private static let unknownId: Int32 = -2

    /// Events per batch: enough reads in flight to cover the misses, few enough that what they
    /// bring in is still cached when the folds come.
    public static let batch = 32
    /// A batch's events; their keys and hashes, then ids (-1 for no key or one a fixed table
    /// lacks), by event and entity kind.
    private var batchEvents: [Event] = []
    /// Empty, or by event and entity kind: the key's id when known, -1 for no key, `unknownId`.
    private var batchKnown: [Int32] = []
    /// The batch's keys as UTF-8 bytes, one after the other, and where each lies (by event and
    /// entity kind; nil for none): the text of a key is made only when the key is new.
    private var batchKeyBytes: [UInt8] = []
    private var batchKeyRanges: [Range<Int>?] = []
    private var batchHashes: [UInt64] = []
    private var batchIds: [Int] = []
    /// Where the touched words go, so that the reads are not optimized away.
    private var touched: UInt64 = 0

    private func foldBatch() {
        // The batch works on locals swapped out of the table: every access to a class's stored
        // property checks exclusive access at run time, which in these loops cost a tenth of the
        // fold; a local's accesses are checked when compiled.
        var kinds: [Kind] = []
        var keyBytes: [UInt8] = []
        var ranges: [Range<Int>?] = []
        var hashes: [UInt64] = []
        var ids: [Int] = []
        swap(&kinds, &self.kinds)
        swap(&keyBytes, &batchKeyBytes)
        swap(&ranges, &batchKeyRanges)
        swap(&hashes, &batchHashes)
        swap(&ids, &batchIds)
        defer {
            swap(&kinds, &self.kinds)
            swap(&keyBytes, &batchKeyBytes)
            swap(&ranges, &batchKeyRanges)
            swap(&hashes, &batchHashes)
            swap(&ids, &batchIds)
        }
        keyBytes.removeAll(keepingCapacity: true)
        ranges.removeAll(keepingCapacity: true)
        hashes.removeAll(keepingCapacity: true)
        ids.removeAll(keepingCapacity: true)
        let known = batchKnown
        for (i, event) in batchEvents.enumerated() {
            for (k, e) in entityKinds.enumerated() {
                if !known.isEmpty && known[i * entityKinds.count + k] != Self.unknownId {
                    ranges.append(nil)
                    continue
                }
                let start = keyBytes.count
                let written = engine.entities[e].keyMaker.write(event, into: &keyBytes)
                ranges.append(written ? start..<keyBytes.count : nil)
            }
        }
        keyBytes.withUnsafeBytes { all in
            for r in ranges {
                hashes.append(r.map { EntityKeyTable.hash(bytes: UnsafeRawBufferPointer(rebasing: all[$0])) } ?? 0)
            }
        }
        var touched: UInt64 = 0
        let n = entityKinds.count
        for (k, e) in entityKinds.enumerated() {
            let table = kinds[e].keys
            let lines = engine.entities[e].layout.headerLines
            hashes.withUnsafeBufferPointer { hashes in
                for j in stride(from: k, to: hashes.count, by: n) { touched &+= table.touch(hash: hashes[j]) }
                kinds[e].states.withUnsafeBufferPointer { states in
                    for j in stride(from: k, to: hashes.count, by: n) {
                        guard let id = table.candidate(hash: hashes[j]), Int(id) < states.count else { continue }
                        touched &+= UInt64(table.touch(id: id)) &+ UInt64(bitPattern: states[Int(id)].lastTime)
                    }
                    lines.withUnsafeBufferPointer { lines in
                        // The bucket again rather than a saved id: it is cached now.
                        for j in stride(from: k, to: hashes.count, by: n) {
                            guard let id = table.candidate(hash: hashes[j]), Int(id) < states.count else { continue }
                            touched &+= states[Int(id)].touch(lines)
                        }
                    }
                }
            }
        }
        keyBytes.withUnsafeBytes { all in
            for j in ranges.indices {
                let e = entityKinds[j % n]
                if !known.isEmpty && known[j] != Self.unknownId {
                    ids.append(known[j] < 0 ? -1 : kinds[e].slot(id: Int(known[j]), engine: engine, entity: e) ?? -1)
                    continue
                }
                guard let range = ranges[j] else {
                    ids.append(-1)
                    continue
                }
                let bytes = UnsafeRawBufferPointer(rebasing: all[range])
                ids.append(
                    kinds[e].slot(bytes: bytes, hash: hashes[j], engine: engine, entity: e, fixed: keepsKeys) ?? -1)
            }
        }
        var j = 0
        let tracks = tracksChanges
        for event in batchEvents {
            let mask = engine.filterMask(event)
            for e in entityKinds {
                let id = ids[j]
                j += 1
                if id >= 0 { kinds[e].fold(event, id: id, mask: mask, engine: engine, entity: e, tracks: tracks) }
            }
        }
        self.touched &+= touched
    }

    /// The id of `key`'s state, an empty state made for it when it has none; nil for a key that a
    /// table with fixed keys does not hold.
    @inline(__always)
    private func slot(entity e: Int, key: String) -> Int? {
        kinds[e].slot(key: key, hash: EntityKeyTable.hash(key), engine: engine, entity: e, fixed: keepsKeys)
    }

    public func state(entity e: Int, key: String) -> EntityState? {
        kinds[e].keys.find(key, hash: EntityKeyTable.hash(key)).flatMap { state(entity: e, id: $0) }
    }

    /// The state of the key with this id in the table's key table; nil when it has none.
    public func state(entity e: Int, id: Int32) -> EntityState? {
        guard Int(id) < kinds[e].states.count else { return nil }
        let state = kinds[e].states[Int(id)]
        return state.storage != nil && !state.isEmpty ? state : nil
    }

    /// Appends the values of `features` (aggregates of entity kind `e`) for the key with this id as
    /// of `t`, in order: what `FeatureEngine.value` gives for each with `state(entity:id:)`, read
    /// in place (a build reads millions of rows: copying the state out retains its storage).
    public func appendValues(
        entity e: Int, id: Int32, features: UnsafeBufferPointer<Int>, asOf t: Micros, to values: inout [Double]
    ) {
        kinds[e].states.withUnsafeBufferPointer { states in
            guard id >= 0 && Int(id) < states.count, states[Int(id)].storage != nil, !states[Int(id)].isEmpty else {
                for _ in features { values.append(.nan) }
                return
            }
            engine.appendSlotValues(features: features, state: states.baseAddress! + Int(id), asOf: t, to: &values)
        }
    }

    /// Sets `key`'s state; returns the key's id.
    @discardableResult
    public func setState(_ state: EntityState, entity e: Int, key: String) -> Int32 {
        guard let id = slot(entity: e, key: key) else { preconditionFailure("\(key) is not one of the table's keys") }
        kinds[e].states[id] = state
        return Int32(id)
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
        for id in kind.keys.live.indices where kind.keys.live[id] && kind.states[id].storage != nil {
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

    /// The states changed since the last call with their ids and keys, per entity kind; clears
    /// them. What a writer of changes needs, without looking each key up again.
    public func takeChangedStates() -> [[(id: Int32, key: String, state: EntityState)]] {
        kinds.indices.map { e in
            var out: [(id: Int32, key: String, state: EntityState)] = []
            out.reserveCapacity(kinds[e].changed.count)
            for id in kinds[e].changed {
                kinds[e].isChanged[Int(id)] = false
                if kinds[e].keys.live[Int(id)] {
                    out.append((id, kinds[e].keys.keys[Int(id)], kinds[e].states[Int(id)]))
                }
            }
            kinds[e].changed.removeAll(keepingCapacity: true)
            return out
        }
    }

    /// Drops a key's state for good, in a table with fixed keys: its later events are not folded.
    /// For a build, once the last row that reads the key is evaluated: its state is never read
    /// again, so memory holds the states of keys still to be read, not of every key. (The key stays
    /// in the table, marked: removing it would cost a probe run per key.)
    public func retire(entity e: Int, id: Int32) {
        precondition(keepsKeys, "only a table with fixed keys retires keys")
        kinds[e].states[Int(id)] = Self.retired
    }

    /// Drops states that expired before the watermark. Any later admitted event is at or after the
    /// watermark, so it would find such an entity expired and start it over anyway; dropping it
    /// changes no value and keeps memory bounded by the active entities.
    /// Returns the evicted keys and their ids per entity kind.
    @discardableResult
    public func evictExpired(watermark: Micros) -> [[(id: Int32, key: String)]] {
        var evicted = [[(id: Int32, key: String)]](repeating: [], count: engine.entities.count)
        guard watermark != .min else { return evicted }
        for e in entityKinds {
            let ttl = engine.entities[e].entity.ttl
            for id in kinds[e].states.indices where kinds[e].keys.live[id] {
                let last = kinds[e].states[id].lastTime
                guard last != .min && last != Self.retired.lastTime && watermark - last > ttl else { continue }
                evicted[e].append((Int32(id), kinds[e].keys.keys[id]))
                if !keepsKeys { kinds[e].keys.remove(id: Int32(id)) }
                kinds[e].states[id] = Self.gone
            }
        }
        return evicted
    }
}
