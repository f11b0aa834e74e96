import FsmlCore

extension FeatureEngine {
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
        // Through a buffer pointer: a loop variable or an array subscript would copy each slot's
        // plan (its existential aggregator, the strings inside) once per event.
        state.withMutableWords { words in
            entities[e].slots.withUnsafeBufferPointer { slots in
                var slot = slots.baseAddress!
                for _ in 0..<slots.count {
                    // Through `pointee`: the plan is borrowed where it lies; a subscript copied it.
                    if slot.pointee.filterBit & mask == slot.pointee.filterBit {
                        slot.pointee.operation.fold(
                            event, into: words + slot.pointee.byteOffset, window: slot.pointee.window)
                    }
                    slot += 1
                }
            }
        }
    }

    /// Combines two states of one entity holding disjoint sets of events of the same life (no TTL
    /// gap between them), slot by slot with each aggregator's `merge`: what folding all the
    /// events into one state gives. This is what lets partial states from shards combine.
    public func merge(_ other: EntityState, into state: inout EntityState, entity e: Int) {
        guard !other.isEmpty else { return }
        guard !state.isEmpty else { return state = other }
        state.lastTime = max(state.lastTime, other.lastTime)
        other.storage!.withWords { from in
            state.withMutableWords { words in
                for slot in entities[e].slots {
                    slot.operation.merge(from + slot.byteOffset, into: words + slot.byteOffset, window: slot.window)
                }
            }
        }
    }
}
