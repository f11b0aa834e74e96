import FsmlCore

/// One partial aggregate that entity state keeps: an aggregator over a window, of the events
/// that pass a filter. Features compile to slots; two features that need the same aggregate
/// share a slot (a ratio and any other feature over the same filtered window read one set of tiles).
public struct SlotPlan: Sendable {
    public let operation: any Aggregator
    /// Index into `FeatureEngine.filters`; nil for every event.
    public let filter: Int?
    public let window: WindowSpec
    /// The filter's bit in an event's filter mask (`FeatureEngine.filterMask`); 0 for every event.
    let filterBit: UInt64
    /// Where the slot's storage starts in its entity's state, in bytes (`StateLayout`).
    var byteOffset = 0

    init(operation: any Aggregator, filter: Int?, window: WindowSpec) {
        self.operation = operation
        self.filter = filter
        self.window = window
        filterBit = filter.map { 1 << UInt64($0) } ?? 0
    }
}

/// How a feature's value is read: from a slot of its entity's state, or by its expression.
public enum FeaturePlan: Sendable, Equatable {
    case slot(Int)
    case derived(FeatureExpression)
}

/// The compiled form of the registry for one entity kind: which slots its state holds.
public struct EntityPlan: Sendable {
    public let entity: EntitySpec
    public let keyMaker: EntityKeyMaker
    public let slots: [SlotPlan]
    let layout: StateLayout
    /// Identifies the slot layout; stored in serialized state so that state written under other
    /// definitions is never misread.
    public let fingerprint: UInt32

    init(entity: EntitySpec, slots: [SlotPlan], filters: [Filter]) {
        self.entity = entity
        keyMaker = EntityKeyMaker(fields: entity.keyFields)
        var placed = slots
        for (i, offset) in StateLayout.offsets(slots).enumerated() { placed[i].byteOffset = offset }
        self.slots = placed
        var fp = StableHash.hash("entity=\(entity.name);ttl=\(entity.ttl);keys=\(entity.keyFields)")
        for s in slots {
            let filterText = s.filter.map { "\(filters[$0])" } ?? "-"
            fp = StableHash.combine(
                fp, StableHash.hash("\(s.operation.stateIdentity);\(filterText);\(s.window.fingerprintText)"))
        }
        fingerprint = UInt32(truncatingIfNeeded: fp)
        layout = StateLayout(slots: placed, fingerprint: fingerprint)
    }
}
