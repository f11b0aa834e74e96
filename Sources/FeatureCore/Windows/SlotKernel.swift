import FsmlCore

/// What the engine asks of one slot (an aggregator over a window) through `any Aggregator`.
///
/// Every aggregator gets these from the extension below; they are protocol requirements only so
/// that a call through an existential reaches a copy of the window code specialized to that
/// aggregator's own partial type, with no boxing or dynamic casts on the fold path.
public protocol SlotKernel: Sendable {
    func makeBuffer(window: WindowSpec) -> SlotBuffer
    func fold(_ event: Event, into buffer: SlotBuffer, window: WindowSpec)
    func value(of buffer: SlotBuffer, window: WindowSpec, asOf t: Micros) -> Double
    func merge(_ other: SlotBuffer, into buffer: SlotBuffer, window: WindowSpec)
    func encode(_ buffer: SlotBuffer, window: WindowSpec, to writer: inout StateWriter)
    func decode(window: WindowSpec, from reader: inout StateReader) throws(StateDecodeError) -> SlotBuffer
}

extension Aggregator {
    /// The buffer the engine made for this aggregator (`makeBuffer`); never another type.
    @inline(__always)
    private func partials(_ buffer: SlotBuffer) -> Partials<Partial> {
        unsafeDowncast(buffer, to: Partials<Partial>.self)
    }

    /// A decayed window's buffer, whatever the aggregator: its tiles hold weighted sums.
    @inline(__always)
    private func decayed(_ buffer: SlotBuffer) -> Partials<WideSum> {
        unsafeDowncast(buffer, to: Partials<WideSum>.self)
    }

    public func makeBuffer(window: WindowSpec) -> SlotBuffer {
        switch window {
        case .sliding(let w, let h): return TiledWindow.makeBuffer(self, window: w, hop: h)
        case .session, .lifetime: return SessionWindow.makeBuffer(self)
        case .decayed(let h): return DecayedWindow.makeBuffer(self, halfLife: h)
        }
    }

    public func fold(_ event: Event, into buffer: SlotBuffer, window: WindowSpec) {
        switch window {
        case .sliding(_, let h): TiledWindow.fold(self, event, into: partials(buffer), hop: h)
        case .session, .lifetime: SessionWindow.fold(self, event, into: partials(buffer))
        case .decayed(let h):
            DecayedWindow.fold(self, event, into: decayed(buffer), halfLife: h)
        }
    }

    public func value(of buffer: SlotBuffer, window: WindowSpec, asOf t: Micros) -> Double {
        switch window {
        case .sliding(let w, let h): return TiledWindow.value(self, partials(buffer), window: w, hop: h, asOf: t)
        case .session, .lifetime: return SessionWindow.value(self, partials(buffer), asOf: t)
        case .decayed(let h): return DecayedWindow.value(decayed(buffer), halfLife: h, asOf: t)
        }
    }

    public func merge(_ other: SlotBuffer, into buffer: SlotBuffer, window: WindowSpec) {
        switch window {
        case .sliding: TiledWindow.merge(self, partials(other), into: partials(buffer))
        case .session, .lifetime: SessionWindow.merge(self, partials(other), into: partials(buffer))
        case .decayed(let h): DecayedWindow.merge(self, decayed(other), into: decayed(buffer), halfLife: h)
        }
    }

    public func encode(_ buffer: SlotBuffer, window: WindowSpec, to writer: inout StateWriter) {
        switch window {
        case .sliding(_, let h): TiledWindow.encode(self, partials(buffer), hop: h, to: &writer)
        case .session, .lifetime: SessionWindow.encode(self, partials(buffer), to: &writer)
        case .decayed(let h): DecayedWindow.encode(self, decayed(buffer), halfLife: h, to: &writer)
        }
    }

    public func decode(window: WindowSpec, from reader: inout StateReader) throws(StateDecodeError) -> SlotBuffer {
        switch window {
        case .sliding(let w, let h): return try TiledWindow.decode(self, window: w, hop: h, from: &reader)
        case .session, .lifetime: return try SessionWindow.decode(self, from: &reader)
        case .decayed(let h): return try DecayedWindow.decode(self, halfLife: h, from: &reader)
        }
    }
}
