import FsmlCore

/// Every event of the entity's life since it last started over (its TTL ran out between two
/// events): for a session entity, the session; for any entity, `window: lifetime`. One partial,
/// updated by every event.
enum SessionWindow {
    static func initialize<A: Aggregator>(_ a: A, _ slot: UnsafeMutableRawPointer) {
        SlotCells.initialize(slot, count: 1, filledWith: a.empty)
    }

    @inline(__always)
    static func fold<A: Aggregator>(_ a: A, _ event: Event, into buffer: SlotCells<A.Partial>) {
        buffer.withCells { _, cells in a.update(&cells[0], with: event) }
    }

    static func value<A: Aggregator>(_ a: A, _ buffer: SlotCells<A.Partial>, asOf t: Micros) -> Double {
        buffer.withCells { _, cells in a.finalize(cells[0], asOf: t) }
    }

    static func merge<A: Aggregator>(_ a: A, _ other: SlotCells<A.Partial>, into buffer: SlotCells<A.Partial>) {
        other.withCells { _, o in buffer.withCells { _, cells in a.merge(&cells[0], with: o[0]) } }
    }

    static func encode<A: Aggregator>(_ a: A, _ buffer: SlotCells<A.Partial>, to writer: inout StateWriter) {
        buffer.withCells { _, cells in a.encode(cells[0], to: &writer) }
    }

    static func decode<A: Aggregator>(
        _ a: A, from reader: inout StateReader, into slot: SlotCells<A.Partial>
    ) throws(StateDecodeError) {
        slot.cells[0] = try a.decode(from: &reader)
    }
}
