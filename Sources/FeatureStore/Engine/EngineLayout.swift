import FsmlCore

/// One partial aggregate that entity state keeps. Features compile to slots; two features that
/// need the same aggregate over the same filter and window share a slot (prod_ctr_24h and any
/// other feature over 24h product views read one set of tiles).
public struct AggregateSlot: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case count
        /// Sums are kept in fixed point (micro-units) in Int64, so that adding the same events in
        /// any order gives the same bits: the stream and the point-in-time builder fold in
        /// different orders and must agree exactly.
        case sum(field: Int)
        case distinct(field: Int)
        /// Earliest matching event: (time, tie-break, value).
        case first(field: Int)
        /// Latest matching event: (time, tie-break, value).
        case last(field: Int)
        /// Earliest and latest matching event times.
        case span
    }

    public var kind: Kind
    /// Index into `EngineLayout.filters`, or -1 for every event.
    public var filterIndex: Int
    public var window: WindowSpec
    /// Where the slot's numbers start in `EntityState.slab`.
    public var slabOffset: Int
    /// Where its sets start in `EntityState.sets` (distinct counts).
    public var setOffset: Int

    public var tiles: Int {
        if case .sliding(let w, let h) = window { return WindowRule.tileCount(window: w, hop: h) }
        return 1
    }

    var slabWidth: Int {
        switch (kind, window) {
        case (.count, .sliding), (.sum, .sliding): return 1 + tiles
        case (.distinct, .sliding): return 1
        case (.count, .session), (.sum, .session): return 1
        case (.distinct, .session): return 0
        case (.first, _), (.last, _): return 3
        case (.span, _): return 2
        }
    }

    var setWidth: Int {
        if case .distinct = kind { return tiles }
        return 0
    }
}

/// How a feature's value is read from its slots.
public enum FeaturePlan: Sendable, Equatable {
    case slot(Int)
    case ratio(numerator: Int, denominator: Int)
    case duration(Int)
}

/// The compiled form of the registry for one entity kind: which slots its state holds and how
/// each feature reads them.
public struct EntityPlan: Sendable, Equatable {
    public let entity: EntitySpec
    public let keyMaker: EntityKeyMaker
    public let slots: [AggregateSlot]
    public let slabSize: Int
    public let setCount: Int
    /// Identifies the slot layout; stored in serialized state so that state written under other
    /// definitions is never misread.
    public let fingerprint: UInt32
    /// Sentinel-filled numbers of a new state.
    let emptySlab: [Int64]
}

/// The registry compiled for folding and reading. Pure: no I/O, no global state; the stream job,
/// the point-in-time builder and the server each hold one built from the same fsml.yaml.
public struct EngineLayout: Sendable {
    public let registry: FeatureRegistry
    public let entities: [EntityPlan]
    /// Indexed like `registry.features`.
    public let plans: [FeaturePlan]
    /// The distinct filters of all slots, evaluated once per event into a bit mask.
    public let filters: [Filter]
    public static let maxFilters = 64

    public init(registry: FeatureRegistry) {
        self.registry = registry
        var filters: [Filter] = []
        for f in registry.features { if let filter = f.filter, !filters.contains(filter) { filters.append(filter) } }
        precondition(filters.count <= Self.maxFilters, "the registry loader rejects more than 64 distinct filters")
        self.filters = filters
        var entityPlans: [EntityPlan] = []
        var plans = [FeaturePlan](repeating: .slot(0), count: registry.features.count)
        for (e, entity) in registry.entities.enumerated() {
            var slots: [AggregateSlot] = []
            var slab = 0
            var sets = 0
            func slotIndex(_ kind: AggregateSlot.Kind, _ filter: Filter?, _ window: WindowSpec) -> Int {
                let fi = filter.map { f in filters.firstIndex(of: f)! } ?? -1
                if let i = slots.firstIndex(where: { $0.kind == kind && $0.filterIndex == fi && $0.window == window }) {
                    return i
                }
                var s = AggregateSlot(kind: kind, filterIndex: fi, window: window, slabOffset: slab, setOffset: sets)
                s.slabOffset = slab
                slab += s.slabWidth
                sets += s.setWidth
                slots.append(s)
                return slots.count - 1
            }
            for (fi, f) in registry.features.enumerated() where f.entity == e {
                guard let window = f.window else { continue }
                switch f.aggregation {
                case .count: plans[fi] = .slot(slotIndex(.count, f.filter, window))
                case .sum(let field): plans[fi] = .slot(slotIndex(.sum(field: field), f.filter, window))
                case .distinctCount(let field): plans[fi] = .slot(slotIndex(.distinct(field: field), f.filter, window))
                case .first(let field): plans[fi] = .slot(slotIndex(.first(field: field), f.filter, window))
                case .last(let field): plans[fi] = .slot(slotIndex(.last(field: field), f.filter, window))
                case .duration: plans[fi] = .duration(slotIndex(.span, f.filter, window))
                case .ratio: break
                }
            }
            for (fi, f) in registry.features.enumerated() {
                if case .ratio(let n, let d) = f.aggregation, f.entity == e {
                    plans[fi] = .ratio(numerator: n, denominator: d)
                }
            }
            var empty = [Int64](repeating: 0, count: slab)
            for s in slots {
                switch (s.kind, s.window) {
                case (.count, .sliding), (.sum, .sliding), (.distinct, .sliding): empty[s.slabOffset] = .min
                case (.first, _): empty[s.slabOffset] = .max
                case (.last, _): empty[s.slabOffset] = .min
                case (.span, _):
                    empty[s.slabOffset] = .max
                    empty[s.slabOffset + 1] = .min
                default: break
                }
            }
            var fp = StableHash.hash("entity=\(entity.name);ttl=\(entity.ttl);keys=\(entity.keyFields)")
            for s in slots {
                let filterText = s.filterIndex < 0 ? "-" : "\(filters[s.filterIndex])"
                fp = StableHash.combine(fp, StableHash.hash("\(s.kind);\(filterText);\(s.window)"))
            }
            entityPlans.append(
                EntityPlan(
                    entity: entity, keyMaker: EntityKeyMaker(fields: entity.keyFields), slots: slots, slabSize: slab,
                    setCount: sets, fingerprint: UInt32(truncatingIfNeeded: fp), emptySlab: empty))
        }
        entities = entityPlans
        self.plans = plans
    }

    /// Bit i is set when the event passes `filters[i]`.
    @inline(__always)
    public func filterMask(_ event: Event) -> UInt64 {
        var mask: UInt64 = 0
        for (i, f) in filters.enumerated() where f.matches(event) { mask |= 1 << UInt64(i) }
        return mask
    }

    public func emptyState(entity e: Int) -> EntityState {
        EntityState(
            lastTime: .min, slab: entities[e].emptySlab,
            sets: [Set<UInt64>](repeating: [], count: entities[e].setCount))
    }
}

extension EngineLayout {
    /// The event fields folding reads: entity keys, filter fields, aggregated fields, and the id
    /// when first/last need it to break ties. A replay can skip decoding the rest.
    public var fieldsRead: Set<Int> {
        var fields: Set<Int> = [registry.schema.timeField]
        for plan in entities {
            fields.formUnion(plan.entity.keyFields)
            for slot in plan.slots {
                switch slot.kind {
                case .sum(let f), .distinct(let f): fields.insert(f)
                case .first(let f), .last(let f):
                    fields.insert(f)
                    fields.insert(registry.schema.idField)
                case .count, .span: break
                }
            }
        }
        for filter in filters { fields.formUnion(filter.fieldsRead) }
        return fields
    }
}

extension Filter {
    /// The fields a filter compares.
    public var fieldsRead: Set<Int> {
        switch self {
        case .compare(let field, _, _, _), .isIn(let field, _, _): return [field]
        case .and(let a, let b), .or(let a, let b): return a.fieldsRead.union(b.fieldsRead)
        case .not(let a): return a.fieldsRead
        }
    }
}
