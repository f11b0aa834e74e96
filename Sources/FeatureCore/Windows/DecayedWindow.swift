import Foundation
import FsmlCore

/// An exponentially decayed window: the value as of t is Σ term(e) · 2^(−(t − time(e)) / H) over
/// the entity's events before t, where H is the half-life and term is what the aggregator adds per
/// event (1 for a count, the field's value for a sum).
///
/// Exact and order-free, like a sum: time is cut into tiles of one half-life, and each tile k
/// keeps, in fixed point (micro-units, 128 bits), Σ term(e) · 2^((time(e) − k·H) / H) over its
/// events. Each event's weight is computed from the event alone (a factor in [1, 2)), so adding
/// them in any order gives the same bits; the value as of t is then
/// Σ_k tile(k) · 2^(−(t − k·H) / H), summed from the oldest tile to the newest, the same
/// arithmetic wherever the state is read. Tiles more than 64 half-lives old weigh less than 2^−63
/// of a new one and are dropped.
enum DecayedWindow {
    /// Half-lives of tiles the ring keeps.
    static let tiles = 64

    /// The weighted sums of one decayed slot, as a tiled window keeps them.
    struct Terms<A: Aggregator>: PartialAlgebra {
        let aggregator: A
        let halfLife: Micros

        var empty: WideSum { .zero }

        @inline(__always)
        func update(_ partial: inout WideSum, with event: Event) {
            guard let term = aggregator.decayTerm(event) else { return }
            let tileStart = WindowRule.tile(of: event.time, hop: halfLife) * halfLife
            let weight = exp2(Double(event.time - tileStart) / Double(halfLife))
            partial += WideSum(SumAggregator.fixedPoint(term * weight))
        }

        func merge(_ partial: inout WideSum, with other: WideSum) { partial += other }
        func encode(_ partial: WideSum, to writer: inout StateWriter) { writer.zigzag(partial) }
        func decode(from reader: inout StateReader) throws(StateDecodeError) -> WideSum { try reader.wideZigzag() }
    }

    /// A dummy window length for the ring: `tiles` tiles of one half-life.
    static func span(_ halfLife: Micros) -> Micros { Micros(tiles - 1) * halfLife }

    /// The tiles of the ring.
    static func tileCount(halfLife: Micros) -> Int { WindowRule.tileCount(window: span(halfLife), hop: halfLife) }

    static func initialize<A: Aggregator>(_ a: A, _ slot: UnsafeMutableRawPointer, halfLife: Micros) {
        TiledWindow.initialize(
            Terms(aggregator: a, halfLife: halfLife), slot, window: span(halfLife), hop: halfLife)
    }

    @inline(__always)
    static func fold<A: Aggregator>(_ a: A, _ event: Event, into buffer: SlotCells<WideSum>, halfLife: Micros) {
        TiledWindow.fold(Terms(aggregator: a, halfLife: halfLife), event, into: buffer, hop: halfLife)
    }

    static func value(_ buffer: SlotCells<WideSum>, halfLife: Micros, asOf t: Micros) -> Double {
        buffer.withCells { header, cells in
            guard let head = header.pointee.newestTile else { return 0 }
            let n = header.pointee.count
            var total = 0.0
            for k in (head - Int64(n) + 1)...head {
                let sum = cells[TiledWindow.cell(k, n)]
                guard sum != .zero else { continue }
                let age = Double(t - k * halfLife) / Double(halfLife)
                total += sum.double / SumAggregator.scale * exp2(-age)
            }
            return total
        }
    }

    static func merge<A: Aggregator>(
        _ a: A, _ other: SlotCells<WideSum>, into buffer: SlotCells<WideSum>, halfLife: Micros
    ) {
        TiledWindow.merge(Terms(aggregator: a, halfLife: halfLife), other, into: buffer)
    }

    static func encode<A: Aggregator>(
        _ a: A, _ buffer: SlotCells<WideSum>, halfLife: Micros, to writer: inout StateWriter
    ) {
        TiledWindow.encode(Terms(aggregator: a, halfLife: halfLife), buffer, hop: halfLife, to: &writer)
    }

    static func decode<A: Aggregator>(
        _ a: A, halfLife: Micros, from reader: inout StateReader, into slot: SlotCells<WideSum>
    ) throws(StateDecodeError) {
        try TiledWindow.decode(Terms(aggregator: a, halfLife: halfLife), hop: halfLife, from: &reader, into: slot)
    }
}
