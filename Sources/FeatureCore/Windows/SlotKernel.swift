import FsmlCore

/// What the engine asks of one slot (an aggregator over a window) through `any Aggregator`, on
/// the slot's place inside an entity's state (`StateStorage`, at the slot's offset).
///
/// Every aggregator gets these from the extension below; they are protocol requirements only so
/// that a call through an existential reaches a copy of the window code specialized to that
/// aggregator's own partial type, with no boxing or dynamic casts on the fold path.
public protocol SlotKernel: Sendable {
    /// The 8-byte words the slot takes.
    func words(window: WindowSpec) -> Int
    /// Whether the slot's partials are plain bits, which need no deinitialization.
    func isTrivial(window: WindowSpec) -> Bool
    /// Makes the words at `slot` an empty slot.
    func initialize(_ slot: UnsafeMutableRawPointer, window: WindowSpec)
    func deinitialize(_ slot: UnsafeMutableRawPointer, window: WindowSpec)
    /// Initializes the words at `target` as a copy of `slot`.
    func copy(_ slot: UnsafeMutableRawPointer, to target: UnsafeMutableRawPointer, window: WindowSpec)
    func isEqual(_ a: UnsafeMutableRawPointer, _ b: UnsafeMutableRawPointer, window: WindowSpec) -> Bool
    func fold(_ event: Event, into slot: UnsafeMutableRawPointer, window: WindowSpec)
    func value(of slot: UnsafeMutableRawPointer, window: WindowSpec, asOf t: Micros) -> Double
    func merge(_ other: UnsafeMutableRawPointer, into slot: UnsafeMutableRawPointer, window: WindowSpec)
    func encode(_ slot: UnsafeMutableRawPointer, window: WindowSpec, to writer: inout StateWriter)
    /// Reads the slot into `slot`, which holds an empty slot.
    func decode(
        window: WindowSpec, from reader: inout StateReader, into slot: UnsafeMutableRawPointer)
        throws(StateDecodeError)
}

extension Aggregator {
    /// The slot as the engine laid it out for this aggregator (`initialize`); never another type.
    @inline(__always)
    private func partials(_ slot: UnsafeMutableRawPointer) -> SlotCells<Partial> { SlotCells(slot) }

    /// A decayed window's slot, whatever the aggregator: its tiles hold weighted sums.
    @inline(__always)
    private func decayed(_ slot: UnsafeMutableRawPointer) -> SlotCells<WideSum> { SlotCells(slot) }

    public func words(window: WindowSpec) -> Int {
        switch window {
        case .sliding(let w, let h): return SlotCells<Partial>.words(count: WindowRule.tileCount(window: w, hop: h))
        case .session, .lifetime: return SlotCells<Partial>.words(count: 1)
        case .decayed(let h): return SlotCells<WideSum>.words(count: DecayedWindow.tileCount(halfLife: h))
        }
    }

    public func isTrivial(window: WindowSpec) -> Bool {
        if case .decayed = window { return _isPOD(WideSum.self) }
        return _isPOD(Partial.self)
    }

    public func initialize(_ slot: UnsafeMutableRawPointer, window: WindowSpec) {
        switch window {
        case .sliding(let w, let h): TiledWindow.initialize(self, slot, window: w, hop: h)
        case .session, .lifetime: SessionWindow.initialize(self, slot)
        case .decayed(let h): DecayedWindow.initialize(self, slot, halfLife: h)
        }
    }

    public func deinitialize(_ slot: UnsafeMutableRawPointer, window: WindowSpec) {
        if case .decayed = window { return decayed(slot).deinitialize() }
        partials(slot).deinitialize()
    }

    public func copy(_ slot: UnsafeMutableRawPointer, to target: UnsafeMutableRawPointer, window: WindowSpec) {
        if case .decayed = window { return decayed(slot).copy(to: target) }
        partials(slot).copy(to: target)
    }

    public func isEqual(_ a: UnsafeMutableRawPointer, _ b: UnsafeMutableRawPointer, window: WindowSpec) -> Bool {
        if case .decayed = window { return decayed(a).isEqual(to: decayed(b)) }
        return partials(a).isEqual(to: partials(b))
    }

    public func fold(_ event: Event, into slot: UnsafeMutableRawPointer, window: WindowSpec) {
        switch window {
        case .sliding(_, let h): TiledWindow.fold(self, event, into: partials(slot), hop: h)
        case .session, .lifetime: SessionWindow.fold(self, event, into: partials(slot))
        case .decayed(let h): DecayedWindow.fold(self, event, into: decayed(slot), halfLife: h)
        }
    }

    public func value(of slot: UnsafeMutableRawPointer, window: WindowSpec, asOf t: Micros) -> Double {
        switch window {
        case .sliding(let w, let h): return TiledWindow.value(self, partials(slot), window: w, hop: h, asOf: t)
        case .session, .lifetime: return SessionWindow.value(self, partials(slot), asOf: t)
        case .decayed(let h): return DecayedWindow.value(decayed(slot), halfLife: h, asOf: t)
        }
    }

    public func merge(_ other: UnsafeMutableRawPointer, into slot: UnsafeMutableRawPointer, window: WindowSpec) {
        switch window {
        case .sliding: TiledWindow.merge(self, partials(other), into: partials(slot))
        case .session, .lifetime: SessionWindow.merge(self, partials(other), into: partials(slot))
        case .decayed(let h): DecayedWindow.merge(self, decayed(other), into: decayed(slot), halfLife: h)
        }
    }

    public func encode(_ slot: UnsafeMutableRawPointer, window: WindowSpec, to writer: inout StateWriter) {
        switch window {
        case .sliding(_, let h): TiledWindow.encode(self, partials(slot), hop: h, to: &writer)
        case .session, .lifetime: SessionWindow.encode(self, partials(slot), to: &writer)
        case .decayed(let h): DecayedWindow.encode(self, decayed(slot), halfLife: h, to: &writer)
        }
    }

    public func decode(
        window: WindowSpec, from reader: inout StateReader, into slot: UnsafeMutableRawPointer
    )
        throws(StateDecodeError)
    {
        switch window {
        case .sliding(_, let h): try TiledWindow.decode(self, hop: h, from: &reader, into: partials(slot))
        case .session, .lifetime: try SessionWindow.decode(self, from: &reader, into: partials(slot))
        case .decayed(let h): try DecayedWindow.decode(self, halfLife: h, from: &reader, into: decayed(slot))
        }
    }
}
