import FsmlCore

/// The registry compiled for folding events into entity state and reading feature values from
/// it. Pure: no I/O, no global state, nothing mutable; the stream job, the point-in-time builder and
/// the server each hold one built from the same fsml.yaml, so each computes every value the same
/// way. A class: the closures and tables holding it share one reference instead of retaining each
/// of its arrays on every copy.
public final class FeatureEngine: Sendable {
    public let registry: FeatureRegistry
    public let entities: [EntityPlan]
    /// Indexed like `registry.features`.
    public let plans: [FeaturePlan]
    /// Each aggregate feature's own operation, which finalizes its slot (a slot is shared by
    /// features with equal state identities that finalize it differently); indexed like `plans`.
    /// Not optional: a method called on an element through a buffer pointer then opens the
    /// existential in place, where an optional would be copied first. Derived features hold a
    /// count that is never read.
    let finalizers: [any Aggregator]
    /// Each feature's entity kind, indexed like `plans`: read per value, where copying the
    /// feature's spec (names, definition) would cost more than the value itself.
    let featureEntities: [Int]
    /// What reading an aggregate feature needs, copied out of the plans (indexed like `plans`;
    /// unused for derived features): reading a value then copies no plan, entity spec or
    /// existential, which would retain each of their fields.
    let reads: [SlotRead]

    struct SlotRead {
        /// The slot's place in its state's words, in bytes.
        var byteOffset: Int
        var window: WindowSpec
        var ttl: Micros
    }
    /// The distinct filters of all slots, evaluated once per event into a bit mask.
    public let filters: [Filter]
    public static let maxFilters = 64

    public init(registry: FeatureRegistry) {
        self.registry = registry
        var filters: [Filter] = []
        for f in registry.features {
            if let filter = f.aggregate?.filter, !filters.contains(filter) { filters.append(filter) }
        }
        precondition(filters.count <= Self.maxFilters, "the registry loader rejects more than 64 distinct filters")
        self.filters = filters
        var plans = [FeaturePlan](repeating: .slot(0), count: registry.features.count)
        let entities = registry.entities.enumerated().map { e, entity in
            var slots: [SlotPlan] = []
            var slotByKey: [String: Int] = [:]
            for (fi, f) in registry.features.enumerated() where f.entity == e {
                guard let a = f.aggregate else { continue }
                let filter = a.filter.map { filters.firstIndex(of: $0)! }
                let key = "\(a.operation.stateIdentity);\(filter ?? -1);\(a.window.fingerprintText)"
                let i =
                    slotByKey[key]
                    ?? {
                        slots.append(SlotPlan(operation: a.operation, filter: filter, window: a.window))
                        slotByKey[key] = slots.count - 1
                        return slots.count - 1
                    }()
                plans[fi] = .slot(i)
            }
            for (fi, f) in registry.features.enumerated() where f.entity == e {
                if let d = f.derived { plans[fi] = .derived(d.expression) }
            }
            return EntityPlan(entity: entity, slots: slots, filters: filters)
        }
        self.entities = entities
        self.plans = plans
        finalizers = registry.features.map { $0.aggregate?.operation ?? CountAggregator() }
        featureEntities = registry.features.map(\.entity)
        reads = zip(plans, registry.features).map { plan, f in
            guard case .slot(let s) = plan else { return SlotRead(byteOffset: 0, window: .lifetime, ttl: 0) }
            return SlotRead(
                byteOffset: entities[f.entity].slots[s].byteOffset, window: f.aggregate!.window,
                ttl: registry.entities[f.entity].ttl)
        }
    }

    /// Bit i is set when the event passes `filters[i]`.
    @inline(__always)
    public func filterMask(_ event: Event) -> UInt64 {
        var mask: UInt64 = 0
        for (i, f) in filters.enumerated() where f.matches(event) { mask |= 1 << UInt64(i) }
        return mask
    }

    public func emptyState(entity e: Int) -> EntityState {
        EntityState(lastTime: .min, storage: entities[e].layout.makeEmpty())
    }

    /// The event fields folding reads: entity keys, filter fields and aggregated fields. A replay
    /// can skip decoding the rest.
    public var fieldsRead: Set<Int> {
        var fields: Set<Int> = [registry.schema.timeField]
        for plan in entities {
            fields.formUnion(plan.entity.keyFields)
            for slot in plan.slots { fields.formUnion(slot.operation.fieldsRead) }
        }
        for filter in filters { fields.formUnion(filter.fieldsRead) }
        return fields
    }
}
