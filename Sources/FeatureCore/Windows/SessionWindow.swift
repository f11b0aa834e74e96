import FsmlCore

/// Every event of the entity's life since it last started over (its TTL ran out between two
/// events): for a session entity, the session; for any entity, `window: lifetime`. One partial,
/// updated by every event.
enum SessionWindow {
    static func makeBuffer<A: Aggregator>(_ a: A) -> Partials<A.Partial> {
        Partials.make(count: 1, filledWith: a.empty)
    }

    @inline(__always)
    static func fold<A: Aggregator>(_ a: A, _ event: Event, into buffer: Partials<A.Partial>) {
        buffer.withCells { _, cells in a.update(&cells[0], with: event) }
    }

    static func value<A: Aggregator>(_ a: A, _ buffer: Partials<A.Partial>, asOf t: Micros) -> Double {
        buffer.withCells { _, cells in a.finalize(cells[0], asOf: t) }
    }

    static func merge<A: Aggregator>(_ a: A, _ other: Partials<A.Partial>, into buffer: Partials<A.Partial>) {
        other.withCells { _, o in buffer.withCells { _, cells in a.merge(&cells[0], with: o[0]) } }
    }

    static func encode<A: Aggregator>(_ a: A, _ buffer: Partials<A.Partial>, to writer: inout StateWriter) {
        buffer.withCells { _, cells in a.encode(cells[0], to: &writer) }
    }

    static func decode<A: Aggregator>(
        _ a: A, from reader: inout StateReader
    ) throws(StateDecodeError) -> Partials<
        A.Partial
    > {
        let partial = try a.decode(from: &reader)
        return Partials.make(count: 1, filledWith: partial)
    }
}
