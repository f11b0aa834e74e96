import FsmlCore

/// What the engine keeps for one entity: the time of its latest event and one slot buffer per
/// slot of its entity plan. Serializable (`StateCodec`), so the online store holds it as one blob
/// and the server evaluates it as of the request time.
///
/// A value type: copies share slot buffers, and `makeUnique` copies a shared buffer before it is
/// changed, as the standard library's collections do. So no buffer is written while another
/// state (or thread) can see it, which is what makes the state `Sendable`.
public struct EntityState: @unchecked Sendable, Equatable {
    /// The latest event time folded in; `.min` for a state that has seen nothing.
    public internal(set) var lastTime: Micros
    var slots: [SlotBuffer]

    public var isEmpty: Bool { lastTime == .min }

    /// About how many bytes the slot buffers hold (for caches that bound their memory).
    public var approximateBytes: Int { 64 + slots.reduce(0) { $0 + 48 + 8 * $1.capacity } }

    /// Copies slot `i`'s buffer when another state shares it, before it is changed.
    @inline(__always)
    mutating func makeUnique(slot i: Int) {
        if !isKnownUniquelyReferenced(&slots[i]) { slots[i] = slots[i].copy() }
    }

    public static func == (a: EntityState, b: EntityState) -> Bool {
        a.lastTime == b.lastTime && a.slots.count == b.slots.count
            && zip(a.slots, b.slots).allSatisfy { $0.isEqual(to: $1) }
    }
}
