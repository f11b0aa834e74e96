import FsmlCore

/// What the engine keeps for one entity: the time of its latest event and the partial aggregates
/// of every slot of its plan. Small, flat, and serializable (`StateCodec`), so the online store
/// holds it as one blob and the server evaluates it as of the request time.
public struct EntityState: Sendable, Equatable {
    /// The latest event time folded in; `.min` for a state that has seen nothing.
    public var lastTime: Micros
    /// Slot numbers: tile heads and values, fixed-point sums, times.
    public var slab: [Int64]
    /// Slot sets: hashes of distinct values, one set per tile.
    public var sets: [Set<UInt64>]

    public var isEmpty: Bool { lastTime == .min }
}

/// Fixed-point scale of sums: micro-units.
let sumScale: Double = 1_000_000

extension EngineLayout {
    /// Folds one admitted event into an entity's state.
    ///
    /// An event that comes more than the entity's TTL after its latest event finds the entity
    /// expired: the state starts over first, exactly as if the online store had dropped it. The
    /// decision depends only on the events folded before it, in arrival order, which the stream
    /// job and the point-in-time builder share.
    public func fold(_ event: Event, into state: inout EntityState, entity e: Int) {
        fold(event, into: &state, entity: e, mask: filterMask(event))
    }

    /// `fold` with the event's filter mask already computed (once per event, for all entities).
    public func fold(_ event: Event, into state: inout EntityState, entity e: Int, mask: UInt64) {
        if state.lastTime != .min && event.time - state.lastTime > entities[e].entity.ttl {
            state = emptyState(entity: e)
        }
        if event.time > state.lastTime { state.lastTime = event.time }
        for slot in entities[e].slots {
            if slot.filterIndex >= 0 && mask & (1 << UInt64(slot.filterIndex)) == 0 { continue }
            let o = slot.slabOffset
            switch slot.window {
            case .sliding(_, let hop):
                let n = slot.tiles
                let k = WindowRule.tile(of: event.time, hop: hop)
                guard let cell = advance(&state, slot: slot, tile: k, tiles: n) else { continue }
                switch slot.kind {
                case .count: state.slab[o + 1 + cell] &+= 1
                case .sum(let field): state.slab[o + 1 + cell] &+= fixedPoint(event.values[field])
                case .distinct(let field):
                    if let h = distinctHash(event.values[field]) { state.sets[slot.setOffset + cell].insert(h) }
                default: break
                }
            case .session:
                switch slot.kind {
                case .count: state.slab[o] &+= 1
                case .sum(let field): state.slab[o] &+= fixedPoint(event.values[field])
                case .distinct(let field):
                    if let h = distinctHash(event.values[field]) { state.sets[slot.setOffset].insert(h) }
                case .first(let field):
                    let tie = tieBreak(event, idField: registry.schema.idField)
                    if (event.time, tie) < (state.slab[o], UInt64(bitPattern: state.slab[o + 1]))
                        || state.slab[o] == .max
                    {
                        state.slab[o] = event.time
                        state.slab[o + 1] = Int64(bitPattern: tie)
                        state.slab[o + 2] = Int64(bitPattern: (event.values[field].numericValue ?? .nan).bitPattern)
                    }
                case .last(let field):
                    let tie = tieBreak(event, idField: registry.schema.idField)
                    if (event.time, tie) > (state.slab[o], UInt64(bitPattern: state.slab[o + 1]))
                        || state.slab[o] == .min
                    {
                        state.slab[o] = event.time
                        state.slab[o + 1] = Int64(bitPattern: tie)
                        state.slab[o + 2] = Int64(bitPattern: (event.values[field].numericValue ?? .nan).bitPattern)
                    }
                case .span:
                    if event.time < state.slab[o] { state.slab[o] = event.time }
                    if event.time > state.slab[o + 1] { state.slab[o + 1] = event.time }
                }
            }
        }
    }

    /// Moves a sliding slot's head to tile `k` when `k` is newer, clearing the tiles it passes, and
    /// returns the ring cell of `k`; nil when `k` is older than any tile a later read can cover.
    @inline(__always)
    private func advance(_ state: inout EntityState, slot: AggregateSlot, tile k: Int64, tiles n: Int) -> Int? {
        let o = slot.slabOffset
        let head = state.slab[o]
        let isSet: Bool
        if case .distinct = slot.kind { isSet = true } else { isSet = false }
        if head == .min || k - head >= Int64(n) {
            for c in 0..<n { clear(&state, slot: slot, cell: c, isSet: isSet) }
            state.slab[o] = k
        } else if k > head {
            var t = head + 1
            while t <= k {
                clear(&state, slot: slot, cell: Self.cell(t, n), isSet: isSet)
                t += 1
            }
            state.slab[o] = k
        } else if k <= head - Int64(n) {
            return nil
        }
        return Self.cell(k, n)
    }

    @inline(__always)
    private func clear(_ state: inout EntityState, slot: AggregateSlot, cell: Int, isSet: Bool) {
        if isSet {
            state.sets[slot.setOffset + cell].removeAll()
        } else {
            state.slab[slot.slabOffset + 1 + cell] = 0
        }
    }

    @inline(__always)
    static func cell(_ tile: Int64, _ n: Int) -> Int {
        let m = Int(tile % Int64(n))
        return m < 0 ? m + n : m
    }

    /// The value of a feature for an entity state as of `t`: NaN when the entity is missing
    /// (never seen, or expired by its TTL) or the value is undefined (a ratio over 0).
    ///
    /// Exact when every event folded into `state` is before `t`, which holds for the server (it
    /// reads at or after the latest event) and for point-in-time builds (they fold only events
    /// known before t).
    public func value(feature f: Int, state: EntityState?, asOf t: Micros) -> Double {
        guard let state, !state.isEmpty else { return .nan }
        let entity = registry.features[f].entity
        if WindowRule.isExpired(lastEvent: state.lastTime, asOf: t, ttl: entities[entity].entity.ttl) { return .nan }
        return unexpiredValue(feature: f, state: state, asOf: t)
    }

    private func unexpiredValue(feature f: Int, state: EntityState, asOf t: Micros) -> Double {
        let slots = entities[registry.features[f].entity].slots
        switch plans[f] {
        case .ratio(let n, let d):
            let den = unexpiredValue(feature: d, state: state, asOf: t)
            guard den != 0 else { return .nan }
            return unexpiredValue(feature: n, state: state, asOf: t) / den
        case .duration(let s):
            let o = slots[s].slabOffset
            guard state.slab[o] != .max else { return .nan }
            return Double(state.slab[o + 1] - state.slab[o]) / Double(Timestamp.microsPerSecond)
        case .slot(let s):
            return slotValue(slots[s], state: state, asOf: t)
        }
    }

    private func slotValue(_ slot: AggregateSlot, state: EntityState, asOf t: Micros) -> Double {
        let o = slot.slabOffset
        switch slot.window {
        case .session:
            switch slot.kind {
            case .count: return Double(state.slab[o])
            case .sum: return Double(state.slab[o]) / sumScale
            case .distinct: return Double(state.sets[slot.setOffset].count)
            case .first: return state.slab[o] == .max ? .nan : Double(bitPattern: UInt64(bitPattern: state.slab[o + 2]))
            case .last: return state.slab[o] == .min ? .nan : Double(bitPattern: UInt64(bitPattern: state.slab[o + 2]))
            case .span: return .nan
            }
        case .sliding(let w, let h):
            let head = state.slab[o]
            if head == .min {
                return 0
            }
            let n = slot.tiles
            let covered = WindowRule.coveredTiles(asOf: t, window: w, hop: h)
            let lo = max(covered.first, head - Int64(n) + 1)
            let hi = min(covered.last, head)
            guard lo <= hi else { return 0 }
            if case .distinct = slot.kind {
                var union = Set<UInt64>()
                for k in lo...hi { union.formUnion(state.sets[slot.setOffset + Self.cell(k, n)]) }
                return Double(union.count)
            }
            var total: Int64 = 0
            for k in lo...hi { total &+= state.slab[o + 1 + Self.cell(k, n)] }
            if case .sum = slot.kind { return Double(total) / sumScale }
            return Double(total)
        }
    }

    /// The values of the given features for one state, in order.
    public func values(features: [Int], state: EntityState?, asOf t: Micros) -> [Double] {
        features.map { value(feature: $0, state: state, asOf: t) }
    }
}

@inline(__always)
func fixedPoint(_ v: FieldValue) -> Int64 {
    guard let x = v.numericValue else { return 0 }
    let scaled = (x * sumScale).rounded()
    // Beyond ±9.2e12 units a value cannot be represented; clamp rather than trap.
    if scaled >= 9.2e18 { return Int64.max / 2 }
    if scaled <= -9.2e18 { return Int64.min / 2 }
    return Int64(scaled)
}

/// Distinct counts keep 64-bit hashes of values, stable across processes; a missing value is not
/// a value and is not counted.
@inline(__always)
func distinctHash(_ v: FieldValue) -> UInt64? {
    switch v {
    case .string(let s): return StableHash.hash(s)
    case .number(let x): return StableHash.mix(x.bitPattern)
    case .bool(let b): return b ? 1 : 2
    case .missing: return nil
    }
}

/// Orders events with equal times independently of arrival order: by a hash of the event id.
@inline(__always)
func tieBreak(_ event: Event, idField: Int) -> UInt64 {
    if case .string(let s) = event.values[idField] { return StableHash.hash(s) }
    return 0
}
