import FsmlCore

/// The event that `first` or `last` keeps: its time, its tie-break and the field's value.
///
/// Events with equal times are ordered by a 64-bit hash of their event id (`tie`), which does not
/// depend on arrival order: of two events at the same instant, `first` keeps the one with the
/// smaller hash and `last` the one with the larger. The value is kept as bits so that a missing
/// value (NaN) compares equal to itself.
public struct PickedEvent: Sendable, Equatable {
    public var time: Micros
    public var tie: UInt64
    public var valueBits: UInt64

    init(_ event: Event, field: Int, idField: Int) {
        time = event.time
        tie = Self.tieBreak(event, idField: idField)
        valueBits = (event.values[field].numericValue ?? .nan).bitPattern
    }

    init(time: Micros, tie: UInt64, valueBits: UInt64) {
        self.time = time
        self.tie = tie
        self.valueBits = valueBits
    }

    var value: Double { Double(bitPattern: valueBits) }

    func precedes(_ other: PickedEvent) -> Bool { (time, tie) < (other.time, other.tie) }

    @inline(__always)
    static func tieBreak(_ event: Event, idField: Int) -> UInt64 {
        if case .string(let s) = event.values[idField] { return StableHash.hash(s) }
        return 0
    }

    /// A presence byte, then the time relative to the state's latest event, the tie-break and
    /// the value (state format 1).
    static func encode(_ pick: PickedEvent?, to writer: inout StateWriter) {
        guard let pick else { return writer.byte(0) }
        writer.byte(1)
        writer.time(pick.time)
        writer.fixed64(pick.tie)
        writer.fixed64(pick.valueBits)
    }

    static func decode(from reader: inout StateReader) throws(StateDecodeError) -> PickedEvent? {
        guard try reader.byte() != 0 else { return nil }
        return PickedEvent(time: try reader.time(), tie: try reader.fixed64(), valueBits: try reader.fixed64())
    }
}
